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

    private static readonly MetadataState s_inlineLevel = s_state.Apply(new SetClusterLevel(MetadataCodec.PutInlineLevel), 2);

    private static DataPath Path(FakeReplicas replicas, TimeSpan? deadline = null, Func<string, bool>? reachable = null) =>
        new(s_members[0], replicas, _ => true, reachable ?? (_ => true), (_, _) => Task.CompletedTask, deadline ?? TimeSpan.FromMinutes(1), NullLogger.Instance);

    [Fact]
    public async Task ASmallBody_TravelsInItsCommit_WhenTheClusterReadsThatAndEveryReplicaAnswers()
    {
        var replicas = new FakeReplicas();
        byte[] body = [.. Enumerable.Range(0, 4096).Select(i => (byte)i)];
        StoredObject stored = await Path(replicas).StoreAsync(s_inlineLevel, "b", "k", new MemoryStream(body), body.Length, MD5.HashData(body), SHA256.HashData(body), CancellationToken.None, mayInline: true);
        Assert.Equal(body, stored.Inline);
        Assert.Equal(s_members.Order(), stored.Replicas.Order());
        Assert.All(s_members, m => Assert.Empty(replicas.On(m))); // nothing sent ahead: each replica stores it as it applies the commit
        Assert.Equal(MD5.HashData(body), stored.Md5);
        var version = new ObjectVersion("k", 0, body.Length, "\"e\"", "t", 1, [], stored.Blobs, stored.Replicas);
        PutInline put = Assert.IsType<PutInline>(stored.Command("b", version));
        Assert.Equal(body, put.Content.ToArray());
        Assert.Equal(O3Storage.Storage.Format.Crc32C.Compute(body), Assert.Single(put.Version.Blobs).Crc32C);
    }

    [Theory]
    [InlineData("a replica does not answer")]
    [InlineData("the cluster does not read PutInline yet")]
    [InlineData("the body is larger than InlineBytesMax")]
    [InlineData("the caller commits a PutObject (a part, a restore)")]
    public async Task ABody_GoesToItsReplicasFirst_When(string why)
    {
        var replicas = new FakeReplicas();
        byte[] body = new byte[why.Contains("larger", StringComparison.Ordinal) ? DataPath.InlineBytesMax + 1 : 4096];
        StoredObject stored = await Path(replicas, reachable: why.Contains("answer", StringComparison.Ordinal) ? m => m != s_members[2] : null).StoreAsync(
            why.Contains("read", StringComparison.Ordinal) ? s_state : s_inlineLevel, "b", "k", new MemoryStream(body), body.Length, null, null, CancellationToken.None,
            mayInline: !why.Contains("caller", StringComparison.Ordinal));
        Assert.Null(stored.Inline);
        Assert.IsType<PutObject>(stored.Command("b", new ObjectVersion("k", 0, body.Length, "\"e\"", "t", 1, [], stored.Blobs, stored.Replicas)));
        Assert.All(s_members, m => Assert.Single(replicas.On(m)));
    }

    [Fact]
    public async Task ASmallBodyThatDoesNotMatchItsDigest_IsRefused_BeforeAnyCommit()
    {
        var replicas = new FakeReplicas();
        byte[] body = [1, 2, 3];
        await Assert.ThrowsAsync<DigestMismatchException>(() => Path(replicas).StoreAsync(s_inlineLevel, "b", "k", new MemoryStream(body), body.Length, new byte[16], null, CancellationToken.None, mayInline: true));
        await Assert.ThrowsAsync<IncompleteBodyException>(() => Path(replicas).StoreAsync(s_inlineLevel, "b", "k", new MemoryStream(body), body.Length + 1, null, null, CancellationToken.None, mayInline: true));
        Assert.All(s_members, m => Assert.Empty(replicas.On(m)));
    }

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
