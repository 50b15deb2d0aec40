// Owns: ListBuckets' pagination (max-buckets, continuation-token, prefix): which buckets one page holds
// and the token that resumes after it. Pure: the buckets in name order in, one page out.
using System.Buffers.Text;
using System.Text;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.S3;

/// <param name="ContinuationToken">Set when more buckets follow this page: pass it back for the next.</param>
public sealed record BucketPage(IReadOnlyList<BucketRecord> Buckets, string? ContinuationToken);

public static class BucketListing
{
    /// <summary>S3's limit and default for max-buckets.</summary>
    public const int MaxBucketsLimit = 10_000;

    /// <summary>
    /// One page of the buckets (given in name order) whose names start with <paramref name="prefix"/>,
    /// after the bucket a token names; null when the token is not one this cluster issued.
    /// </summary>
    public static BucketPage? Page(IEnumerable<BucketRecord> sortedBuckets, string prefix, string? continuationToken, int maxBuckets)
    {
        string? after = null;
        if (!string.IsNullOrEmpty(continuationToken) && (after = DecodeToken(continuationToken)) is null)
        {
            return null;
        }

        var page = new List<BucketRecord>();
        foreach (BucketRecord bucket in sortedBuckets)
        {
            if (!bucket.Name.StartsWith(prefix, StringComparison.Ordinal) || (after is not null && string.CompareOrdinal(bucket.Name, after) <= 0))
            {
                continue;
            }

            if (page.Count == maxBuckets)
            {
                return new BucketPage(page, EncodeToken(page[^1].Name));
            }

            page.Add(bucket);
        }

        return new BucketPage(page, null);
    }

    private static string EncodeToken(string lastName) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes("b:" + lastName));

    private static string? DecodeToken(string token) =>
        ObjectListing.DecodeTokenText(token) is { Length: > 2 } text && text.StartsWith("b:", StringComparison.Ordinal) ? text[2..] : null;
}
