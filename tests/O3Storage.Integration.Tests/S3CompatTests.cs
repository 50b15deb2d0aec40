using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// S3 as the tools people back up with expect it (issue 22), with unmodified clients against a 3-node
/// cluster with the guide's api-keys.txt: boto3 (Debian's python3-boto3) runs the suite in
/// tests/s3compat, and the AWS SDK for .NET the cases boto3 1.26 has no parameters for.
/// </summary>
public sealed class S3CompatTests(ITestOutputHelper output) : IDisposable
{
    private const int Subnet = 90;
    private const string Python = "/usr/bin/python3"; // Debian's, with python3-boto3 (a pyenv or pip one may come first on PATH)
    private readonly KeyFile _keys = new();

    public void Dispose() => _keys.Dispose();

    [Fact]
    public async Task Boto3_RunsTheCompatibilitySuite()
    {
        using TestCluster cluster = await TestCluster.StartAsync(Subnet, 3, output, "--api-keys", _keys.Path);
        Dictionary<string, string?> env = new()
        {
            ["O3_ENDPOINTS"] = string.Join(',', new[] { 1, 2, 3 }.Select(n => $"http://{cluster.NodeId(n)}")),
            ["O3_ACCESS_KEY"] = KeyFile.AccessKeyId(_keys.ReadWrite),
            ["O3_SECRET_KEY"] = _keys.ReadWrite,
            ["AWS_CONFIG_FILE"] = "/dev/null",
            ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
            ["AWS_CA_BUNDLE"] = null,
        };
        string suite = Path.Combine(NodeBinary.RepositoryRoot, "tests", "s3compat");
        (int exitCode, string stdout, string stderr) = await Tool.TryRunAsync(output, env, Python, "-m", "unittest", "discover", "-v", "-s", suite, "-p", "test_*.py");
        Assert.True(exitCode == 0, $"the boto3 suite failed:\n{stderr}{stdout}");
        Assert.DoesNotContain("skipped", stderr, StringComparison.OrdinalIgnoreCase); // every test ran against the cluster
    }

    [Fact]
    public async Task DotNetSdk_PagesThroughBuckets_AndListsOddKeysAndTheirNullVersions()
    {
        using TestCluster cluster = await TestCluster.StartAsync(Subnet, 3, output, "--api-keys", _keys.Path);
        using AmazonS3Client s3 = KeyFile.Client(cluster, 2, _keys.ReadWrite);
        foreach (string bucket in new[] { "pages-c", "pages-a", "other", "pages-b" })
        {
            await s3.PutBucketAsync(bucket);
        }

        var names = new List<string>();
        string? token = null;
        for (int page = 0; page < 10; page++)
        {
            ListBucketsResponse listed = await s3.ListBucketsAsync(new ListBucketsRequest { MaxBuckets = 1, Prefix = "pages-", ContinuationToken = token });
            names.AddRange(listed.Buckets?.Select(b => b.BucketName) ?? []);
            Assert.Equal("pages-", listed.Prefix);
            if ((token = listed.ContinuationToken) is null)
            {
                break;
            }
        }

        Assert.Equal(["pages-a", "pages-b", "pages-c"], names);
        Assert.Equal(("InvalidArgument", System.Net.HttpStatusCode.BadRequest), await S3Assert.CodeOf(() => s3.ListBucketsAsync(new ListBucketsRequest { MaxBuckets = 10_001 })));

        string[] keys = ["dir one/a+b.txt", "100%/p%20q", "line\nbreak.txt", "ünïcødé/日本語.txt", "a/b/c"];
        foreach (string key in keys)
        {
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = "pages-a", Key = key, ContentBody = "x" });
        }

        var listedKeys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = "pages-a", MaxKeys = 2, Encoding = EncodingType.Url };
        do
        {
            ListObjectsV2Response listed = await s3.ListObjectsV2Async(request);
            listedKeys.AddRange(listed.S3Objects?.Select(o => Uri.UnescapeDataString(o.Key)) ?? []); // asked for: the SDK leaves the keys encoded
            request.ContinuationToken = listed.NextContinuationToken;
        }
        while (request.ContinuationToken is not null);
        Assert.Equal(keys.Order(StringComparer.Ordinal), listedKeys.Order(StringComparer.Ordinal));

        ListVersionsResponse versions = await s3.ListVersionsAsync(new ListVersionsRequest { BucketName = "pages-a" });
        Assert.Equal(keys.Order(StringComparer.Ordinal), versions.Versions.Select(v => v.Key).Order(StringComparer.Ordinal));
        Assert.All(versions.Versions, v => Assert.Equal(("null", true), (v.VersionId, v.IsLatest ?? false)));
    }
}
