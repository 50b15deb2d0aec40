using System.Security.Cryptography;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Placement;
using O3Storage.Node.Data;

namespace O3Storage.Node.Tests.Data;

public sealed class ObjectWriterReaderTests
{
    private const int Chunk = 1000;
    private static readonly string[] s_nodes = ["n1", "n2", "n3", "n4"];

    private static byte[] Bytes(int length, int seed = 1)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static ObjectVersion VersionOf(StoredObject stored) =>
        new("k", 1, stored.SizeBytes, "\"e\"", "t", 0, [], stored.Blobs, stored.Replicas);

    private static async Task<byte[]> ReadAsync(FakeReplicas replicas, ObjectVersion version, long offset, long count, List<BadReplica>? bad = null, IReadOnlyList<string>? order = null)
    {
        using var output = new MemoryStream();
        bool ready = false;
        await new ObjectReader(replicas).CopyAsync(version, offset, count, order ?? version.Replicas, () => { ready = true; return Task.CompletedTask; }, output, b => bad?.Add(b), CancellationToken.None);
        Assert.True(ready);
        return output.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(999)]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(3500)]
    public async Task Write_CutsIntoChunks_OnEveryReplica_AndReadsBackWhole(int length)
    {
        var replicas = new FakeReplicas();
        byte[] data = Bytes(length);
        StoredObject stored = await new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(data), length, s_nodes, 3, 2, hashSha256: true, CancellationToken.None);

        Assert.Equal(["n1", "n2", "n3"], stored.Replicas.ToArray());
        Assert.Equal((length + Chunk - 1) / Chunk, stored.Blobs.Length);
        Assert.All(stored.Blobs.SkipLast(1), b => Assert.Equal(Chunk, b.LengthBytes));
        Assert.Equal(MD5.HashData(data), stored.Md5);
        Assert.Equal(SHA256.HashData(data), stored.Sha256);
        foreach (string node in stored.Replicas)
        {
            Assert.Equal(stored.Blobs.Length, replicas.On(node).Count);
        }

        Assert.Empty(replicas.On("n4"));
        Assert.Equal(data, await ReadAsync(replicas, VersionOf(stored), 0, length));
    }

    [Fact]
    public async Task Write_LargeChunks_HashedBesideTheirTransfer_GiveTheBodysDigests()
    {
        var replicas = new FakeReplicas();
        int chunk = ObjectWriter.HashBesideBytes;
        byte[] data = Bytes((3 * chunk) + 17);
        StoredObject stored = await new ObjectWriter(replicas, chunk).WriteAsync(new MemoryStream(data), data.Length, s_nodes, 3, 2, hashSha256: true, CancellationToken.None);

        Assert.Equal(4, stored.Blobs.Length);
        Assert.Equal(MD5.HashData(data), stored.Md5);
        Assert.Equal(SHA256.HashData(data), stored.Sha256);
        Assert.Equal(data, await ReadAsync(replicas, VersionOf(stored), 0, data.Length));
    }

    [Fact]
    public async Task Read_Ranges_AcrossChunkBoundaries()
    {
        var replicas = new FakeReplicas();
        byte[] data = Bytes(3500);
        StoredObject stored = await new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(data), data.Length, s_nodes, 2, 1, false, CancellationToken.None);
        foreach ((long offset, long count) in new[] { (0L, 1L), (999L, 2L), (500L, 2000L), (3499L, 1L), (1000L, 1000L), (2500L, 0L) })
        {
            Assert.Equal(data.AsSpan((int)offset, (int)count).ToArray(), await ReadAsync(replicas, VersionOf(stored), offset, count));
        }

        Assert.Equal(3, ObjectReader.Pieces(VersionOf(stored), 999, 1002).Count);
    }

    [Fact]
    public async Task Write_ReplacesAReplicaThatFailsTheFirstChunk_WithTheNextCandidate()
    {
        var replicas = new FakeReplicas();
        replicas.Down.Add("n2");
        StoredObject stored = await new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(Bytes(2500)), 2500, s_nodes, 3, 2, false, CancellationToken.None);
        Assert.Equal(["n1", "n3", "n4"], stored.Replicas.ToArray());
    }

    [Fact]
    public async Task Write_DropsAReplicaThatFailsLater_AndStaysUnderReplicated()
    {
        var replicas = new FakeReplicas();
        replicas.FailAfterStores["n3"] = 1; // stores chunk 0, fails chunk 1
        StoredObject stored = await new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(Bytes(2500)), 2500, ["n1", "n2", "n3"], 3, 2, false, CancellationToken.None);
        Assert.Equal(["n1", "n2"], stored.Replicas.ToArray());
    }

    [Fact]
    public async Task Write_FailsBelowTheMinimum_AndDeletesWhatItStored()
    {
        var replicas = new FakeReplicas();
        replicas.Full.Add("n2");
        replicas.FailAfterStores["n1"] = 1;
        var error = await Assert.ThrowsAsync<ReplicationException>(() =>
            new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(Bytes(2500)), 2500, ["n1", "n2", "n3"], 3, 2, false, CancellationToken.None));
        Assert.True(error.Full);
        Assert.Contains("n2: full", error.Message, StringComparison.Ordinal);
        await WaitForAsync(() => replicas.On("n1").Count == 0 && replicas.On("n3").Count == 0);
    }

    [Theory]
    [InlineData(2499)]
    [InlineData(2501)]
    public async Task Write_RefusesABodyShorterOrLongerThanDeclared_AndLeavesNothing(int actual)
    {
        var replicas = new FakeReplicas();
        await Assert.ThrowsAsync<IncompleteBodyException>(() =>
            new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(Bytes(actual)), 2500, s_nodes, 3, 2, false, CancellationToken.None));
        await WaitForAsync(() => s_nodes.All(n => replicas.On(n).Count == 0));
    }

    [Fact]
    public async Task Read_FallsBackFromAMissingOrDamagedReplica_AndReportsIt()
    {
        var replicas = new FakeReplicas();
        byte[] data = Bytes(2500);
        StoredObject stored = await new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(data), data.Length, s_nodes, 3, 2, false, CancellationToken.None);
        replicas.Damage("n1");
        replicas.Down.Add("n2");
        var bad = new List<BadReplica>();
        Assert.Equal(data, await ReadAsync(replicas, VersionOf(stored), 0, data.Length, bad));
        Assert.Equal(6, bad.Count); // three blobs, each refused by n1 (checksum) and n2 (down)
        Assert.Contains(bad, b => b.NodeId == "n1" && b.Problem.Contains("checksum", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Read_WhenNoReplicaServes_FailsBeforeAnyByteIsSent()
    {
        var replicas = new FakeReplicas();
        StoredObject stored = await new ObjectWriter(replicas, Chunk).WriteAsync(new MemoryStream(Bytes(10)), 10, s_nodes, 2, 1, false, CancellationToken.None);
        replicas.Damage("n1");
        replicas.Down.Add("n2");
        bool ready = false;
        await Assert.ThrowsAsync<ObjectUnreadableException>(() => new ObjectReader(replicas).CopyAsync(
            VersionOf(stored), 0, 10, stored.Replicas, () => { ready = true; return Task.CompletedTask; }, Stream.Null, _ => { }, CancellationToken.None));
        Assert.False(ready);
    }

    [Fact]
    public void Placement_IsStable_CappedAtMembers_AndNeedsTwoCopies()
    {
        MetadataState state = MetadataState.Create(1, Guid.NewGuid(), new ClusterSettings("c", 3, ConsistencyLevel.Strong), [
            new MemberRecord("127.0.0.1:8080", "127.0.0.1:8090", Guid.NewGuid(), 1),
            new MemberRecord("127.0.0.2:8080", "127.0.0.2:8090", Guid.NewGuid(), 1),
        ]);
        PlacementPlan plan = ObjectPlacement.Place(state, "b", "k");
        Assert.Equal((2, 2, 2), (plan.Ranked.Count, plan.Wanted, plan.Minimum));
        Assert.Equal(plan.Ranked, ObjectPlacement.Place(state, "b", "k").Ranked);
        Assert.Empty(ObjectPlacement.Place(MetadataState.Empty, "b", "k").Ranked);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        // Bounded generously: the thread pool is shared with test classes running in parallel.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); !condition() && waited.Elapsed < TimeSpan.FromSeconds(30);)
        {
            await Task.Delay(5);
        }

        Assert.True(condition());
    }
}
