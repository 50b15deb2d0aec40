using O3Storage.Cluster.Metadata;
using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

public sealed class BucketListingTests
{
    private static readonly BucketRecord[] s_buckets = [.. new[] { "alpha", "apple", "beta", "bravo", "charlie" }.Select((n, i) => new BucketRecord(n, i, i))];

    private static string[] Names(BucketPage page) => [.. page.Buckets.Select(b => b.Name)];

    [Fact]
    public void PagesWalkEveryBucketOnceInOrder()
    {
        var seen = new List<string>();
        string? token = null;
        for (int pages = 0; pages < 10; pages++)
        {
            BucketPage page = BucketListing.Page(s_buckets, string.Empty, token, 2)!;
            seen.AddRange(Names(page));
            Assert.True(page.Buckets.Count <= 2);
            token = page.ContinuationToken;
            if (token is null)
            {
                break;
            }
        }

        Assert.Equal(s_buckets.Select(b => b.Name), seen);
    }

    [Fact]
    public void APrefixNarrowsThePagesAndAFullLastPageSaysSo()
    {
        BucketPage first = BucketListing.Page(s_buckets, "b", null, 1)!;
        Assert.Equal(["beta"], Names(first));
        BucketPage second = BucketListing.Page(s_buckets, "b", first.ContinuationToken, 1)!;
        Assert.Equal(["bravo"], Names(second));
        Assert.Null(second.ContinuationToken); // nothing after it under the prefix: no token, as S3 answers
        Assert.Equal(s_buckets.Length, BucketListing.Page(s_buckets, string.Empty, string.Empty, BucketListing.MaxBucketsLimit)!.Buckets.Count);
    }

    [Theory]
    [InlineData("not a token!")]
    [InlineData("eDp4")] // "x:x"
    public void ForeignTokensAreRefused(string token) => Assert.Null(BucketListing.Page(s_buckets, string.Empty, token, 10));
}
