using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Storage;

namespace O3Storage.Node.Tests.Data;

public sealed class ReplicaMoverTests
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

    private static ReplicaMover Mover(FakeReplicas replicas, List<MetadataCommand> committed, TimeSpan? deadline = null) =>
        new(replicas, new ObjectReader(replicas), (command, _) => { committed.Add(command); return Task.CompletedTask; }, deadline ?? TimeSpan.FromMinutes(1));

    private static MemberLiveness AllUp => MemberLiveness.AllUp(DateTimeOffset.UnixEpoch, TimeSpan.FromMinutes(5));

    [Fact]
    public async Task AnUnderReplicatedObject_IsCopiedVerified_ThenTheFullSetCommits()
    {
        var replicas = new FakeReplicas();
        StoredObject whole = await StoreAsync(replicas, 2500, s_members);
        StoredObject partial = await StoreAsync(replicas, 2500, s_members[..2]);
        MetadataState state = State(("whole", whole), ("partial", partial));

        ReplicaMove move = Assert.Single(ReplicaPlanner.Plan(state, AllUp, 10));
        Assert.Equal(("partial", MoveReason.Repair), (move.Version.Key, move.Reason));
        Assert.Equal([s_members[2]], move.CopyTo.ToArray());

        var committed = new List<MetadataCommand>();
        MoveOutcome outcome = await Mover(replicas, committed).MoveAsync(move, _ => { }, CancellationToken.None);
        Assert.True(outcome.Complete);
        Assert.Equal(partial.Blobs.Length, partial.Blobs.Count(b => replicas.On(s_members[2]).ContainsKey(new BlobId(b.BlobId))));
        var set = Assert.IsType<SetReplicas>(Assert.Single(committed));
        Assert.Equal(s_members.Order(), set.Replicas.Order());
        Assert.Equal(move.Version.VersionIndex, set.VersionIndex);

        state = state.Apply(set, state.LastAppliedIndex + 1);
        Assert.Empty(ReplicaPlanner.Plan(state, AllUp, 10));
        Assert.Equal(2, state.ObjectsByReplica[s_members[2]]);
    }

    [Fact]
    public async Task AMoveWhoseOnlyTargetIsFull_CommitsNothing()
    {
        var replicas = new FakeReplicas();
        StoredObject partial = await StoreAsync(replicas, 2500, s_members[..2]);
        ReplicaMove move = Assert.Single(ReplicaPlanner.Plan(State(("partial", partial)), AllUp, 10));
        replicas.Full.Add(s_members[2]);
        var committed = new List<MetadataCommand>();
        await Assert.ThrowsAsync<MoveException>(() => Mover(replicas, committed).MoveAsync(move, _ => { }, CancellationToken.None));
        Assert.Empty(committed);
    }

    [Fact]
    public async Task AMoveSlowerThanItsDeadline_CommitsNothing()
    {
        var replicas = new FakeReplicas();
        StoredObject partial = await StoreAsync(replicas, 2500, s_members[..2]);
        ReplicaMove move = Assert.Single(ReplicaPlanner.Plan(State(("partial", partial)), AllUp, 10));
        var committed = new List<MetadataCommand>();
        await Assert.ThrowsAsync<MoveException>(() => Mover(replicas, committed, TimeSpan.Zero).MoveAsync(move, _ => { }, CancellationToken.None));
        Assert.Empty(committed);
    }

    [Fact]
    public async Task AMoveWithOneOfTwoTargetsFailing_AddsTheOtherAndDropsNothing()
    {
        // Five members, the object on the two that placement ranks last: three copies and two drops are due.
        string[] five = ["127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080", "127.0.0.4:8080", "127.0.0.5:8080"];
        MetadataState empty = MetadataState.Create(1, Guid.NewGuid(), new ClusterSettings("c", 3, ConsistencyLevel.Strong), five.Select(m => new MemberRecord(m, m, Guid.NewGuid(), 1)));
        var replicas = new FakeReplicas();
        IReadOnlyList<string> ranked = O3Storage.Cluster.Placement.ObjectPlacement.Place(empty, "b", "k").Ranked;
        StoredObject stored = await StoreAsync(replicas, 2500, [ranked[3], ranked[4]]);
        MetadataState state = empty.Apply(new CreateBucket("b", 1), 2).Apply(new PutObject("b", new ObjectVersion("k", 0, stored.SizeBytes, "\"e\"", "t", 0, [], stored.Blobs, stored.Replicas)), 3);

        ReplicaMove move = Assert.Single(ReplicaPlanner.Plan(state, AllUp, 10));
        Assert.Equal(MoveReason.Repair, move.Reason); // two holders where three are wanted
        Assert.Equal(ranked.Take(3).Order(), move.CopyTo.Order());
        Assert.Equal(ranked.Take(3).Order(), move.Replicas.Order()); // the old holders leave once all three hold it

        replicas.Full.Add(ranked[0]);
        var committed = new List<MetadataCommand>();
        MoveOutcome outcome = await Mover(replicas, committed).MoveAsync(move, _ => { }, CancellationToken.None);
        Assert.False(outcome.Complete);
        var set = Assert.IsType<SetReplicas>(Assert.Single(committed));
        Assert.Equal(new[] { ranked[1], ranked[2], ranked[3], ranked[4] }.Order(), set.Replicas.Order());
    }

    [Fact]
    public async Task ABadReplica_IsHealedFromAGoodOne()
    {
        var replicas = new FakeReplicas();
        StoredObject partial = await StoreAsync(replicas, 2500, s_members[..2]);
        var repairer = new Repairer(replicas, new ObjectReader(replicas));
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
