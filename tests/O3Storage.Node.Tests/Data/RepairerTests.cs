using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Storage;

namespace O3Storage.Node.Tests.Data;

public sealed class RepairerTests
{
    private static readonly string[] s_members = ["127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080"];

    private static MetadataState State(params (string Key, StoredObject Stored)[] objects)
    {
        MetadataState state = MetadataState.Create(1, Guid.NewGuid(), new ClusterSettings("c", 3, ConsistencyLevel.Strong), s_members.Select(m => new MemberRecord(m, m, Guid.NewGuid(), 1)));
        state = state.Apply(new CreateBucket("b", 1), 2);
        foreach ((string key, StoredObject stored) in objects)
        {
            state = state.Apply(new PutObject("b", new ObjectVersion(key, 0, stored.SizeBytes, "\"e\"", "t", 0, [], stored.Blobs, stored.Replicas)), state.LastAppliedIndex + 1);
        }

        return state;
    }

    private static async Task<StoredObject> StoreAsync(FakeReplicas replicas, int length, IReadOnlyList<string> on)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        return await new ObjectWriter(replicas, 1000).WriteAsync(new MemoryStream(data), length, on, on.Count, 1, false, CancellationToken.None);
    }

    [Fact]
    public async Task UnderReplicatedObjects_AreCopiedToReachablePlacementNodes_AndTheLargerSetCommits()
    {
        var replicas = new FakeReplicas();
        StoredObject whole = await StoreAsync(replicas, 2500, s_members);
        StoredObject partial = await StoreAsync(replicas, 2500, s_members[..2]);
        StoredObject empty = await StoreAsync(replicas, 0, s_members[..1]);
        MetadataState state = State(("whole", whole), ("partial", partial), ("empty", empty));

        Assert.Empty(Repairer.FindUnderReplicated(state, _ => false, 10)); // nowhere reachable to copy to
        RepairPlan plan = Assert.Single(Repairer.FindUnderReplicated(state, _ => true, 10));
        Assert.Equal("partial", plan.Version.Key);
        Assert.Equal([s_members[2]], plan.Targets);

        var repairer = new Repairer(replicas, new ObjectReader(replicas));
        Assert.Equal([s_members[2]], (await repairer.CopyAsync(plan, plan.Version.Replicas, _ => { }, CancellationToken.None)).ToArray());
        Assert.Equal(partial.Blobs.Length, partial.Blobs.Count(b => replicas.On(s_members[2]).ContainsKey(new BlobId(b.BlobId))));

        state = state.Apply(new SetReplicas("b", "partial", plan.Version.VersionIndex, [.. s_members]), state.LastAppliedIndex + 1);
        Assert.Empty(Repairer.FindUnderReplicated(state, _ => true, 10));
        Assert.Equal(2, state.ObjectsByReplica[s_members[2]]); // whole and, now, partial
    }

    [Fact]
    public async Task ACopyToATargetThatFails_IsNotCounted_AndABadReplicaIsHealedFromAGoodOne()
    {
        var replicas = new FakeReplicas();
        StoredObject partial = await StoreAsync(replicas, 2500, s_members[..2]);
        MetadataState state = State(("partial", partial));
        RepairPlan plan = Assert.Single(Repairer.FindUnderReplicated(state, _ => true, 10));
        var repairer = new Repairer(replicas, new ObjectReader(replicas));
        replicas.Full.Add(s_members[2]);
        Assert.Empty(await repairer.CopyAsync(plan, plan.Version.Replicas, _ => { }, CancellationToken.None));

        replicas.Damage(s_members[0]);
        BlobRef blob = partial.Blobs[0];
        await repairer.HealAsync(new BadReplica(s_members[0], blob, "checksum"), partial.Replicas, CancellationToken.None);
        Assert.Equal(replicas.On(s_members[1])[new BlobId(blob.BlobId)], replicas.On(s_members[0])[new BlobId(blob.BlobId)]);
    }

    [Fact]
    public void SetReplicas_AppliesOnlyToTheVersionItNames_AndRoundTrips()
    {
        MetadataState state = State();
        state = state.Apply(new PutObject("b", new ObjectVersion("k", 0, 0, "\"e\"", "t", 0, [], [], ["a"])), 3);
        MetadataState stale = state.Apply(new SetReplicas("b", "k", 2, ["a", "b"]), 4);
        Assert.Equal(["a"], stale.FindObject("b", "k")!.Replicas.ToArray());
        MetadataState current = state.Apply(new SetReplicas("b", "k", 3, ["a", "b"]), 4);
        Assert.Equal(["a", "b"], current.FindObject("b", "k")!.Replicas.ToArray());
        Assert.Equal(3L, current.FindObject("b", "k")!.VersionIndex);
        Assert.Equal(1, current.ObjectsByReplica["b"]);

        var decoded = Assert.IsType<SetReplicas>(MetadataCodec.Decode(MetadataCodec.Encode(new SetReplicas("b", "k", 3, ["a", "b"]))));
        Assert.Equal(("b", "k", 3L), (decoded.Bucket, decoded.Key, decoded.VersionIndex));
        Assert.Equal(["a", "b"], decoded.Replicas.ToArray());
    }
}
