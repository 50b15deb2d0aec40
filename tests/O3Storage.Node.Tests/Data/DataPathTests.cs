using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;

namespace O3Storage.Node.Tests.Data;

/// <summary>The data path's one way to store an object: placed, written, checked, and nothing kept when a check fails.</summary>
public sealed class DataPathTests
{
    private static readonly string[] s_members = ["127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080"];

    private static readonly MetadataState s_state = MetadataState.Create(1, Guid.NewGuid(), new ClusterSettings("c", 3, ConsistencyLevel.Strong), s_members.Select(m => new MemberRecord(m, m, Guid.NewGuid(), 1)));

    private static DataPath Path(FakeReplicas replicas, TimeSpan? deadline = null) =>
        new(s_members[0], replicas, _ => true, (_, _) => Task.CompletedTask, deadline ?? TimeSpan.FromMinutes(1), NullLogger.Instance);

    [Fact]
    public async Task AMatchingBody_IsStoredOnItsPlacement()
    {
        var replicas = new FakeReplicas();
        byte[] body = [.. Enumerable.Range(0, 5000).Select(i => (byte)i)];
        StoredObject stored = await Path(replicas).StoreAsync(s_state, "b", "k", new MemoryStream(body), body.Length, MD5.HashData(body), SHA256.HashData(body), CancellationToken.None);
        Assert.Equal(s_members.Order(), stored.Replicas.Order());
        Assert.All(s_members, m => Assert.Single(replicas.On(m)));
    }

    [Theory]
    [InlineData("Content-MD5")]
    [InlineData("x-amz-content-sha256")]
    public async Task ABodyThatDoesNotMatchItsDigest_IsRefused_AndNothingIsKept(string digest)
    {
        var replicas = new FakeReplicas();
        byte[] body = [1, 2, 3];
        byte[] wrong = new byte[digest == "Content-MD5" ? 16 : 32];
        var error = await Assert.ThrowsAsync<DigestMismatchException>(() => Path(replicas).StoreAsync(
            s_state, "b", "k", new MemoryStream(body), body.Length, digest == "Content-MD5" ? wrong : null, digest == "Content-MD5" ? null : wrong, CancellationToken.None));
        Assert.Equal(digest, error.Digest);
        await WaitForAsync(() => s_members.All(m => replicas.On(m).Count == 0));
    }

    [Fact]
    public async Task ABodySlowerThanTheCommitDeadline_IsRefused_AndNothingIsKept()
    {
        var replicas = new FakeReplicas();
        await Assert.ThrowsAsync<CommitDeadlineException>(() => Path(replicas, TimeSpan.Zero).StoreAsync(s_state, "b", "k", new MemoryStream([1, 2, 3]), 3, null, null, CancellationToken.None));
        await WaitForAsync(() => s_members.All(m => replicas.On(m).Count == 0));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        // The discard runs in the background: bounded generously, the pool is shared with other test classes.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); !condition() && waited.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }
}
