using System.Net;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// Keys that need no copying: each node's api-keys.txt is shared with the cluster, so a key in any
/// member's file works through every node, a key added the guide's way on one node works everywhere
/// seconds later, and one taken out of the file stops working everywhere.
/// </summary>
public sealed class ClusterKeysTests(ITestOutputHelper output)
{
    private const int Subnet = 81;

    private static string Secret() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static string WriteKeys(string directory, params string[] lines)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "api-keys.txt");
        File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static async Task<HttpStatusCode> PutAsync(TestCluster cluster, int node, string secret, string key)
    {
        using AmazonS3Client s3 = KeyFile.Client(cluster, node, secret);
        try
        {
            return (await s3.PutObjectAsync(new PutObjectRequest { BucketName = "shared", Key = key, ContentBody = key })).HttpStatusCode;
        }
        catch (AmazonS3Exception e)
        {
            return e.StatusCode;
        }
    }

    [Fact]
    public async Task AKeyInAnyMembersFile_WorksThroughEveryNode_AddedOrTakenOutTheGuidesWay()
    {
        string admin = Secret(), writer = Secret(), reader = Secret();
        using var cluster = new TestCluster(Subnet, output);
        string keys1 = WriteKeys(Path.Combine(cluster.Root, "keys-1"), $"admin:{admin}", $"read-write:{writer}");
        string keys2 = WriteKeys(Path.Combine(cluster.Root, "keys-2"), $"read-only:{reader}");
        string keys3 = WriteKeys(Path.Combine(cluster.Root, "keys-3"), $"read-only:{reader}");
        cluster.Bootstrap(1, "--api-keys", keys1);
        await cluster.WaitForActiveNodesAsync([1], 1);
        cluster.Join(2, cluster.Peers(1), "--api-keys", keys2);
        cluster.Join(3, cluster.Peers(1), "--api-keys", keys3);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);

        // Every node honours the three keys (the reader's is in two files, and counts once).
        foreach (int node in new[] { 1, 2, 3 })
        {
            await cluster.WaitUntilAsync($"node {node} honours every member's keys", async () =>
                (await cluster.HealthAsync(node)).GetProperty("auth").GetProperty("keys").GetInt32() == 3);
        }

        // Node 1's keys, through node 3, whose file holds neither.
        using (AmazonS3Client adminThrough3 = KeyFile.Client(cluster, 3, admin))
        {
            await adminThrough3.PutBucketAsync("shared");
        }

        Assert.Equal(HttpStatusCode.OK, await PutAsync(cluster, 3, writer, "through-3"));
        Assert.Equal(HttpStatusCode.OK, await PutAsync(cluster, 2, writer, "through-2"));
        Assert.Equal(HttpStatusCode.Forbidden, await PutAsync(cluster, 1, reader, "read-only")); // node 2's key, with its role, on node 1
        using (AmazonS3Client readerThrough1 = KeyFile.Client(cluster, 1, reader))
        {
            using GetObjectResponse read = await readerThrough1.GetObjectAsync("shared", "through-3");
            Assert.Equal("through-3", await new StreamReader(read.ResponseStream).ReadToEndAsync());
        }

        // The guide's "API Key Management" on node 2 alone: appended, then chmod 600.
        string added = Secret();
        (int exit, _) = await GuideShell.RunAsync($"""
            echo "read-write:{added}" >> {keys2}
            chmod 644 {keys2}
            sleep 3
            chmod 600 {keys2}
            """, output);
        Assert.Equal(0, exit);
        Assert.Contains("cannot be used; the keys read before stay in force", cluster.Process(2).Stdout); // the 644 moment
        await cluster.WaitUntilAsync("node 1 honours the key added on node 2", async () => await PutAsync(cluster, 1, added, "added") == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, await PutAsync(cluster, 3, added, "added-3"));

        // Taken out of node 1's file: refused everywhere. The reader stays: node 3's file still holds it.
        WriteKeys(Path.Combine(cluster.Root, "keys-1"), $"admin:{admin}");
        File.WriteAllText(keys2, $"read-write:{added}\n");
        await cluster.WaitUntilAsync("the writer's key is refused through node 3", async () => await PutAsync(cluster, 3, writer, "gone") == HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Forbidden, await PutAsync(cluster, 2, writer, "gone"));
        using (AmazonS3Client readerThrough2 = KeyFile.Client(cluster, 2, reader))
        {
            Assert.Equal(HttpStatusCode.OK, (await readerThrough2.GetObjectMetadataAsync("shared", "added")).HttpStatusCode);
        }

        // After a restart of every node, the keys are as the files last said.
        cluster.Process(1).Terminate();
        await cluster.Process(1).WaitForExitAsync(TimeSpan.FromSeconds(30));
        cluster.Start(1, "--api-keys", keys1);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        JsonElement auth = (await cluster.HealthAsync(1)).GetProperty("auth");
        Assert.True(auth.GetProperty("enabled").GetBoolean());
        Assert.Equal(3, auth.GetProperty("keys").GetInt32()); // admin (its file), the added writer (node 2's), the reader (node 3's)
        Assert.Equal(HttpStatusCode.Forbidden, await PutAsync(cluster, 1, writer, "gone"));
        Assert.Equal(HttpStatusCode.OK, await PutAsync(cluster, 1, added, "after-restart"));
    }

    private static readonly HttpClient s_http = new();

    private static async Task<(HttpStatusCode Status, string Body)> CallAsync(HttpMethod method, string url, string? bearer)
    {
        using var request = new HttpRequestMessage(method, url);
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        using HttpResponseMessage response = await s_http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AClusterFromABootPartition_IsClosed_ItsFirstAdminKeyOnEveryMember_RetiredOnceTheOwnerHasTheirOwn()
    {
        using var cluster = new TestCluster(82, output);
        string config = Path.Combine(cluster.Root, "o3storage.txt");
        File.WriteAllText(config, "cluster_name=lab\njoin_token=lab-token-0123456789\n");
        NodeProcess first = cluster.Bootstrap(1, "--boot-config", config);
        await cluster.WaitForActiveNodesAsync([1], 1);

        // Closed from the first request: the key is in the data directory, for the node's user alone.
        string copy1 = Path.Combine(cluster.DataDirectory(1), "first-admin-key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(copy1));
        string secret = File.ReadAllText(copy1).Trim().Split(':')[1];
        Assert.Contains($"CLOSED CLUSTER: every S3 and admin call needs a key. This cluster's first admin key (access key id {KeyFile.AccessKeyId(secret)}) is in {copy1}", first.Stdout);
        Assert.DoesNotContain(secret, first.Stdout);
        JsonElement auth = (await cluster.HealthAsync(1)).GetProperty("auth");
        Assert.True(auth.GetProperty("enabled").GetBoolean());
        string api1 = $"http://{cluster.NodeId(1)}";
        Assert.Equal(HttpStatusCode.Forbidden, (await CallAsync(HttpMethod.Put, $"{api1}/lab", null)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await CallAsync(HttpMethod.Get, $"{api1}/admin/keys", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(HttpMethod.Put, $"{api1}/lab", secret)).Status);

        // A board that joins keeps a copy, and honours the key.
        string ownKeys = WriteKeys(Path.Combine(cluster.Root, "keys-2"), $"read-only:{Secret()}");
        cluster.Join(2, cluster.Peers(1), "--boot-config", config, "--api-keys", ownKeys);
        await cluster.WaitForActiveNodesAsync([1, 2], 2);
        string copy2 = Path.Combine(cluster.DataDirectory(2), "first-admin-key");
        await cluster.WaitUntilAsync("node 2 keeps a copy of the first admin key", () => Task.FromResult(File.Exists(copy2)));
        Assert.Contains(secret, File.ReadAllText(copy2));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(copy2));
        string api2 = $"http://{cluster.NodeId(2)}";
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(HttpMethod.Head, $"{api2}/lab", secret)).Status);

        (HttpStatusCode listed, string keys) = await CallAsync(HttpMethod.Get, $"{api2}/admin/keys", secret);
        Assert.Equal(HttpStatusCode.OK, listed);
        Assert.Contains("\"first_admin_key\": \"active\"", keys);
        Assert.DoesNotContain(secret, keys);

        // Not retired while it is the only admin key.
        string id = KeyFile.AccessKeyId(secret);
        (HttpStatusCode refused, string why) = await CallAsync(HttpMethod.Delete, $"{api1}/admin/keys/{id}", secret);
        Assert.Equal(HttpStatusCode.Conflict, refused);
        Assert.Contains("the first admin key is the cluster's only admin key", why);

        // The owner's own admin key, the guide's way on node 2; then the first one is retired everywhere.
        string own = Secret();
        File.AppendAllText(ownKeys, $"admin:{own}\n");
        await cluster.WaitUntilAsync("node 1 honours the owner's admin key", async () => (await CallAsync(HttpMethod.Get, $"{api1}/admin/keys", own)).Status == HttpStatusCode.OK);
        (HttpStatusCode busy, string ownKeyIsFiled) = await CallAsync(HttpMethod.Delete, $"{api1}/admin/keys/{KeyFile.AccessKeyId(own)}", own);
        Assert.Equal(HttpStatusCode.Conflict, busy);
        Assert.Contains($"is in api-keys.txt of {cluster.NodeId(2)}", ownKeyIsFiled);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(HttpMethod.Delete, $"{api2}/admin/keys/{id}", own)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await CallAsync(HttpMethod.Head, $"{api1}/lab", secret)).Status); // the leader, which committed it
        await cluster.WaitUntilAsync("node 2 applied the retirement", async () => (await CallAsync(HttpMethod.Head, $"{api2}/lab", secret)).Status == HttpStatusCode.Forbidden);
        await cluster.WaitUntilAsync("every copy is deleted", () => Task.FromResult(!File.Exists(copy1) && !File.Exists(copy2)));
        Assert.Contains("\"first_admin_key\": \"retired\"", (await CallAsync(HttpMethod.Get, $"{api1}/admin/keys", own)).Body);

        // Never made or shared again: not at a restart, not by the node that made it.
        cluster.Process(1).Terminate();
        await cluster.Process(1).WaitForExitAsync(TimeSpan.FromSeconds(30));
        cluster.Start(1, "--boot-config", config);
        await cluster.WaitForActiveNodesAsync([1, 2], 2);
        await Task.Delay(s_keySyncInterval * 2);
        Assert.False(File.Exists(copy1));
        Assert.Equal(HttpStatusCode.Forbidden, (await CallAsync(HttpMethod.Head, $"{api1}/lab", secret)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(HttpMethod.Head, $"{api1}/lab", own)).Status);
    }

    private static readonly TimeSpan s_keySyncInterval = TimeSpan.FromSeconds(2);
}
