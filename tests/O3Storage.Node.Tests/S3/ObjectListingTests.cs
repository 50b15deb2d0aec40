using System.Text;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.S3;
using Xunit.Abstractions;

namespace O3Storage.Node.Tests.S3;

/// <summary>Listing pages against a brute-force model of S3's semantics; a failure names its seed.</summary>
public sealed class ObjectListingTests(ITestOutputHelper output)
{
    private static readonly string[] s_pieces = ["a", "b", "/", "é", "\U0001F600", "\uE000", "a/", "-"];

    private static ObjectVersion Version(string key) => new(key, 1, 0, "\"e\"", "x", 0, [], [], []);

    private static ObjectIndex Index(IEnumerable<string> keys) => ObjectIndex.Create(keys.Distinct().Select(Version));

    /// <summary>S3 by definition: keys with the prefix in UTF-8 order, rolled up at the first delimiter after it.</summary>
    private static List<(bool IsPrefix, string Name)> Model(IEnumerable<string> keys, string prefix, string? delimiter, string? startAfter)
    {
        var entries = new List<(bool, string)>();
        foreach (string key in keys.Distinct().OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))))
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal) || (startAfter is not null && Utf8OrdinalComparer.Instance.Compare(key, startAfter) <= 0))
            {
                continue;
            }

            int at = delimiter is null ? -1 : key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
            (bool, string) entry = at < 0 ? (false, key) : (true, key[..(at + delimiter!.Length)]);
            if (!entries.Contains(entry))
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    public static TheoryData<int> Seeds => new() { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void PagingThroughEverything_MatchesTheModel(int seed)
    {
        var random = new Random(seed);
        string Key(int pieces) => string.Concat(Enumerable.Range(0, pieces).Select(_ => s_pieces[random.Next(s_pieces.Length)]));
        List<string> keys = [.. Enumerable.Range(0, random.Next(0, 300)).Select(_ => Key(random.Next(1, 6)))];
        ObjectIndex index = Index(keys);

        for (int query = 0; query < 40; query++)
        {
            string prefix = random.Next(3) == 0 ? string.Empty : Key(random.Next(1, 3));
            string? delimiter = random.Next(3) switch { 0 => null, 1 => "/", _ => s_pieces[random.Next(s_pieces.Length)] };
            string? startAfter = random.Next(4) == 0 ? Key(random.Next(1, 4)) : null;
            int maxKeys = random.Next(1, 12);
            List<(bool IsPrefix, string Name)> expected = Model(keys, prefix, delimiter, startAfter);

            var listed = new List<(bool, string)>();
            string? token = null;
            int pages = 0;
            do
            {
                ListPage page = ObjectListing.List(index, new ListRequest(prefix, delimiter, startAfter, token, maxKeys))!;
                Assert.True(page.Contents.Count + page.CommonPrefixes.Count <= maxKeys);
                // Within a page S3 returns contents and common prefixes as separate lists; merge them back in order.
                listed.AddRange(page.Contents.Select(c => (false, c.Key)).Concat(page.CommonPrefixes.Select(p => (true, p)))
                    .OrderBy(e => e.Item2, Utf8OrdinalComparer.Instance));
                Assert.Equal(page.IsTruncated, page.NextContinuationToken is not null);
                token = page.NextContinuationToken;
                Assert.True(++pages <= expected.Count + 1, "listing does not end");
            }
            while (token is not null);

            try
            {
                Assert.Equal(expected, listed);
            }
            catch
            {
                output.WriteLine($"seed {seed} query {query}: prefix '{prefix}', delimiter '{delimiter}', start-after '{startAfter}', max-keys {maxKeys}");
                throw;
            }
        }
    }

    [Fact]
    public void FolderListing_ReturnsCommonPrefixesOnce_AndTokensResumePastThem()
    {
        ObjectIndex index = Index(["photos/2025/a.jpg", "photos/2025/b.jpg", "photos/2026/c.jpg", "photos/readme.txt", "videos/x.mp4", "z.txt"]);
        ListPage first = ObjectListing.List(index, new ListRequest("photos/", "/", null, null, 2))!;
        Assert.Equal(["photos/2025/", "photos/2026/"], first.CommonPrefixes);
        Assert.Empty(first.Contents);
        Assert.True(first.IsTruncated);
        Assert.Equal("photos/2026/", first.NextMarker);

        ListPage second = ObjectListing.List(index, new ListRequest("photos/", "/", null, first.NextContinuationToken, 2))!;
        Assert.Equal(["photos/readme.txt"], second.Contents.Select(c => c.Key));
        Assert.Empty(second.CommonPrefixes);
        Assert.False(second.IsTruncated);
        Assert.Null(second.NextContinuationToken);

        ListPage top = ObjectListing.List(index, new ListRequest(string.Empty, "/", null, null, 1000))!;
        Assert.Equal(["photos/", "videos/"], top.CommonPrefixes);
        Assert.Equal(["z.txt"], top.Contents.Select(c => c.Key));
    }

    [Fact]
    public void MaxKeysZero_IsEmptyAndNotTruncated_AndOverLimitIsCapped()
    {
        ObjectIndex index = Index(Enumerable.Range(0, 1500).Select(i => $"k{i:D5}"));
        ListPage none = ObjectListing.List(index, new ListRequest(string.Empty, null, null, null, 0))!;
        Assert.Empty(none.Contents);
        Assert.False(none.IsTruncated); // nothing asked, nothing to continue

        ListPage capped = ObjectListing.List(index, new ListRequest(string.Empty, null, null, null, 5000))!;
        Assert.Equal(1000, capped.Contents.Count);
        Assert.True(capped.IsTruncated);
    }

    [Fact]
    public void V1Markers_ResumePastACommonPrefix_OrAfterAKey()
    {
        ObjectIndex index = Index(["a/1", "a/2", "b/1", "c"]);
        ListPage first = ObjectListing.List(index, new ListRequest(string.Empty, "/", null, null, 1))!;
        Assert.Equal(["a/"], first.CommonPrefixes);
        string resume = ObjectListing.ResumeAfterMarker(first.NextMarker!, string.Empty, "/");
        ListPage second = ObjectListing.List(index, new ListRequest(string.Empty, "/", first.NextMarker, resume, 10))!;
        Assert.Equal(["b/"], second.CommonPrefixes); // not "a/" again
        Assert.Equal(["c"], second.Contents.Select(c => c.Key));

        string afterKey = ObjectListing.ResumeAfterMarker("a/1", string.Empty, null);
        Assert.Equal(["a/2", "b/1", "c"], ObjectListing.List(index, new ListRequest(string.Empty, null, "a/1", afterKey, 10))!.Contents.Select(c => c.Key));
    }

    [Theory]
    [InlineData("not base64 !!")]
    [InlineData("eDp4")] // "x:x": not a token this node issues
    public void ForeignContinuationTokens_AreRefused(string token) =>
        Assert.Null(ObjectListing.List(Index(["a"]), new ListRequest(string.Empty, null, null, token, 10)));

    [Fact]
    public void AnEmptyContinuationToken_ListsFromTheStart() // botocore sends ContinuationToken='' as continuation-token=
    {
        ObjectIndex index = Index(["a", "b", "c"]);
        Assert.Equal(["a", "b", "c"], ObjectListing.List(index, new ListRequest(string.Empty, null, null, string.Empty, 10))!.Contents.Select(c => c.Key));
        Assert.Equal(["c"], ObjectListing.List(index, new ListRequest(string.Empty, null, "b", string.Empty, 10))!.Contents.Select(c => c.Key));
    }
}
