using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>The AWS SDK for .NET, unmodified, against a 3-node cluster with the guide's api-keys.txt.</summary>
public sealed class S3BucketTests(ITestOutputHelper output) : IDisposable
{
    private const int Subnet = 41;
    private readonly KeyFile _keys = new();

    public void Dispose() => _keys.Dispose();

    private static AmazonS3Client Client(TestCluster cluster, int node, string secret, string? accessKeyId = null) => KeyFile.Client(cluster, node, secret, accessKeyId);

    private static string AccessKeyId(string secret) => KeyFile.AccessKeyId(secret);

    [Fact]
    public async Task Buckets_CreateOnAFollower_ListEverywhere_RolesAndSignaturesEnforced()
    {
        (string keyFile, string admin, string readWrite, string readOnly) = (_keys.Path, _keys.Admin, _keys.ReadWrite, _keys.ReadOnly);
        using var cluster = new TestCluster(Subnet, output);
        cluster.Bootstrap(1, "--api-keys", keyFile);
        await cluster.WaitForActiveNodesAsync([1], 1);
        cluster.Join(2, cluster.Peers(1), "--api-keys", keyFile);
        cluster.Join(3, cluster.Peers(1), "--api-keys", keyFile);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        int follower = new[] { 1, 2, 3 }.First(n => cluster.NodeId(n) != leader);

        using AmazonS3Client writer = Client(cluster, follower, readWrite);
        await writer.PutBucketAsync("photos");
        foreach (int node in new[] { 1, 2, 3 })
        {
            using AmazonS3Client reader = Client(cluster, node, readOnly);
            ListBucketsResponse listed = await reader.ListBucketsAsync();
            Assert.Equal(["photos"], listed.Buckets.Select(b => b.BucketName)); // strong: visible at once on every node
            Assert.Equal(HttpStatusCode.OK, (await reader.GetBucketLocationAsync("photos")).HttpStatusCode);
        }

        // Listing works (the bucket is empty until object writes exist); errors are S3's.
        ListObjectsV2Response emptyV2 = await writer.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "photos", Prefix = "2026/", Delimiter = "/" });
        Assert.Equal((0, false), (emptyV2.KeyCount ?? 0, emptyV2.IsTruncated ?? false));
        ListObjectsResponse emptyV1 = await writer.ListObjectsAsync(new ListObjectsRequest { BucketName = "photos", Marker = "a" });
        Assert.Empty(emptyV1.S3Objects ?? []);
        Assert.Equal(("NoSuchBucket", HttpStatusCode.NotFound), await S3Assert.CodeOf(() => writer.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "missing" })));
        Assert.Equal(("InvalidArgument", HttpStatusCode.BadRequest), await S3Assert.CodeOf(() => writer.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "photos", ContinuationToken = "bm90LW91cnM" })));

        Assert.Equal(("BucketAlreadyOwnedByYou", HttpStatusCode.Conflict), await S3Assert.CodeOf(() => writer.PutBucketAsync("photos")));
        Assert.Equal(("InvalidBucketName", HttpStatusCode.BadRequest), await S3Assert.CodeOf(() => writer.PutBucketAsync("no_underscores")));
        Assert.Equal(("NoSuchBucket", HttpStatusCode.NotFound), await S3Assert.CodeOf(() => writer.GetBucketLocationAsync("missing")));

        using (AmazonS3Client readOnlyClient = Client(cluster, 1, readOnly))
        {
            Assert.Equal(("AccessDenied", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => readOnlyClient.PutBucketAsync("nope")));
            Assert.Equal(("AccessDenied", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => readOnlyClient.DeleteBucketAsync("photos")));
        }

        using (AmazonS3Client wrongSecret = Client(cluster, 1, new string('d', 64), AccessKeyId(readWrite)))
        {
            Assert.Equal(("SignatureDoesNotMatch", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => wrongSecret.ListBucketsAsync()));
        }

        using (AmazonS3Client unknown = Client(cluster, 1, new string('e', 64)))
        {
            Assert.Equal(("InvalidAccessKeyId", HttpStatusCode.Forbidden), await S3Assert.CodeOf(() => unknown.ListBucketsAsync()));
        }

        using (var http = new HttpClient())
        {
            HttpResponseMessage anonymous = await http.GetAsync($"http://{cluster.Ip(1)}:8080/");
            Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
            Assert.Contains("<Code>AccessDenied</Code>", await anonymous.Content.ReadAsStringAsync());

            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{cluster.Ip(1)}:8080/photos?tagging");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
            HttpResponseMessage notYet = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotImplemented, notYet.StatusCode);
            Assert.Contains("<Code>NotImplemented</Code>", await notYet.Content.ReadAsStringAsync());

            // The internal proposal endpoint is for members holding the admin key only.
            HttpResponseMessage forged = await http.PostAsync($"http://{cluster.Ip(1)}:8080/internal/propose", new ByteArrayContent([1, 4, 0]));
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

            // The cluster's metadata (a snapshot a leader named by reference): the cluster has its own CA, so
            // only to a caller with its certificate; not over plain HTTP, even naming the cluster's incarnation.
            string snapshot = $"http://{cluster.Ip(1)}:8080/internal/raft/snapshot?min=1";
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(snapshot)).StatusCode);
            using var ping = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"http://{cluster.Ip(1)}:8080/internal/ping"));
            using var named = new HttpRequestMessage(HttpMethod.Get, snapshot);
            named.Headers.Add("X-O3-Incarnation", ping.RootElement.GetProperty("incarnation").GetString());
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(named)).StatusCode);
        }

        using AmazonS3Client adminOnLeader = Client(cluster, cluster.NodeNumberOf(leader), admin);
        await adminOnLeader.DeleteBucketAsync("photos");
        using AmazonS3Client check = Client(cluster, follower, readOnly);
        Assert.Empty((await check.ListBucketsAsync()).Buckets ?? []);
        Assert.Equal(("NoSuchBucket", HttpStatusCode.NotFound), await S3Assert.CodeOf(() => adminOnLeader.DeleteBucketAsync("photos")));
    }

    [Fact]
    public async Task WithoutQuorum_RequestsAnswer503InsteadOfHanging_AndRecover()
    {
        using TestCluster cluster = await TestCluster.StartAsync(42, 3, output); // no key file: authentication off
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string survivor = $"http://{cluster.Ip(1)}:{TestCluster.ApiPort}";
        Assert.Equal(HttpStatusCode.OK, (await http.PutAsync($"{survivor}/logs", null)).StatusCode);

        cluster.Kill(2);
        cluster.Kill(3);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        HttpResponseMessage listed = await http.GetAsync($"{survivor}/");
        output.WriteLine($"ListBuckets without quorum answered {(int)listed.StatusCode} after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, listed.StatusCode);
        Assert.Contains("<Code>ServiceUnavailable</Code>", await listed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.PutAsync($"{survivor}/other", null)).StatusCode);

        cluster.Start(2);
        cluster.Start(3);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
        string body = await http.GetStringAsync($"http://{cluster.Ip(3)}:{TestCluster.ApiPort}/");
        Assert.True(body.Contains("<Name>logs</Name>", StringComparison.Ordinal), body);
        Assert.DoesNotContain("<Name>other</Name>", body);
    }

    [Fact]
    public async Task AcknowledgedBuckets_SurviveKillingBothFollowersRightAfter()
    {
        // A write acknowledged to the client must be on a majority's disk, not only in followers' memory.
        using TestCluster cluster = await TestCluster.StartAsync(43, 3, output);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        for (int round = 0; round < 6; round++)
        {
            string leader = await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
            int leaderNode = cluster.NodeNumberOf(leader);
            int[] followers = [.. new[] { 1, 2, 3 }.Where(n => n != leaderNode)];
            Assert.Equal(HttpStatusCode.OK, (await http.PutAsync($"http://{leader}/round-{round}", null)).StatusCode);
            foreach (int follower in followers)
            {
                cluster.Kill(follower);
            }

            foreach (int follower in followers)
            {
                cluster.Start(follower);
            }

            await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
            await cluster.WaitForAgreedLeaderAsync([1, 2, 3]);
            string listed = await http.GetStringAsync($"http://{cluster.Ip(followers[0])}:{TestCluster.ApiPort}/");
            for (int earlier = 0; earlier <= round; earlier++)
            {
                Assert.True(listed.Contains($"<Name>round-{earlier}</Name>", StringComparison.Ordinal), $"round {round}: bucket round-{earlier} lost: {listed}");
            }
        }
    }

}
