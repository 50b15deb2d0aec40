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
}
