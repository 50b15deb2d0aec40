using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>Member states, removed members and maintenance mode: how they apply, survive snapshots, and read old records.</summary>
public sealed class LifecycleMetadataTests
{
    private static readonly Guid s_uuid = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid s_newUuid = Guid.Parse("00000000-0000-0000-0000-00000000000b");

    private static MetadataState TwoMembers() => MetadataState.Empty
        .Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", Guid.NewGuid()), 1)
        .Apply(new AddMember("10.0.0.4:8080", "10.0.0.4:8090", s_uuid), 2);

    [Fact]
    public void RemoveMember_RemembersTheNodeAndItsUuid_UntilANodeOfThatIdIsAddedAgain()
    {
        MetadataState removed = TwoMembers().Apply(new RemoveMember("10.0.0.4:8080", 1234), 3);
        Assert.False(removed.Members.ContainsKey("10.0.0.4:8080"));
        Assert.Equal(new RemovedMember("10.0.0.4:8080", s_uuid, 3, 1234), removed.Removed["10.0.0.4:8080"]);

        // Wiped and joined again: a new uuid, a member like any other.
        MetadataState back = removed.Apply(new AddMember("10.0.0.4:8080", "10.0.0.4:8090", s_newUuid), 4);
        Assert.Empty(back.Removed);
        Assert.Equal(s_newUuid, back.Members["10.0.0.4:8080"].Uuid);
    }

    [Fact]
    public void RemoveMember_TakesTheNodeOutOfEveryReplicaList_ObjectsAndParts()
    {
        var version = new ObjectVersion("k", 0, 10, "\"e\"", "t", 0, [], [new BlobRef(1, 10, 1)], ["10.0.0.1:8080", "10.0.0.4:8080"]);
        var part = new UploadedPart(1, "\"p\"", 10, 0, [new BlobRef(2, 10, 2)], ["10.0.0.4:8080", "10.0.0.1:8080"]);
        MetadataState state = TwoMembers()
            .Apply(new CreateBucket("b", 1), 3)
            .Apply(new PutObject("b", version), 4)
            .Apply(new CreateMultipartUpload("b", new MultipartUpload("u", "m", 0, "t", [], MultipartUpload.NoParts)), 5)
            .Apply(new PutPart("b", "u", part), 6);
        Assert.Equal(1, state.ObjectsByReplica["10.0.0.4:8080"]);

        MetadataState removed = state.Apply(new RemoveMember("10.0.0.4:8080", 1), 7);
        Assert.Equal(["10.0.0.1:8080"], removed.FindObject("b", "k")!.Replicas.ToArray());
        Assert.Equal(["10.0.0.1:8080"], removed.Buckets["b"].Uploads["u"].Parts[1].Replicas.ToArray());
        Assert.False(removed.ObjectsByReplica.ContainsKey("10.0.0.4:8080"));
        Assert.Equal(1, removed.ObjectsByReplica["10.0.0.1:8080"]);

        // A wiped node joining again under the same id is no holder of its old objects.
        MetadataState back = removed.Apply(new AddMember("10.0.0.4:8080", "10.0.0.4:8090", s_newUuid), 8);
        Assert.DoesNotContain("10.0.0.4:8080", back.FindObject("b", "k")!.Replicas);
        MetadataState reloaded = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(removed));
        Assert.Equal(removed.ObjectsByReplica.OrderBy(p => p.Key), reloaded.ObjectsByReplica.OrderBy(p => p.Key)); // counts kept as a reload computes them
    }

    [Fact]
    public void SetReplicas_WithAnExpectedSet_AppliesOnlyWhileTheReplicasAreThatSet()
    {
        var version = new ObjectVersion("k", 0, 10, "\"e\"", "t", 0, [], [new BlobRef(1, 10, 1)], ["a", "b"]);
        MetadataState state = MetadataState.Empty.Apply(new CreateBucket("b", 1), 1).Apply(new PutObject("b", version), 2);
        MetadataState moved = state.Apply(new SetReplicas("b", "k", 2, ["a", "c"], ["b", "a"]), 3);
        Assert.Equal(["a", "c"], moved.FindObject("b", "k")!.Replicas.ToArray());

        // A late commit planned from the old set must not bring b back.
        MetadataState stale = moved.Apply(new SetReplicas("b", "k", 2, ["a", "b", "d"], ["a", "b"]), 4);
        Assert.Equal(["a", "c"], stale.FindObject("b", "k")!.Replicas.ToArray());
    }

    [Fact]
    public void SetReplicas_RecordsWithAndWithoutTheExpectedSet_RoundTrip()
    {
        var with = new SetReplicas("b", "k", 9, ["a", "c"], ["a", "b"]);
        var decoded = Assert.IsType<SetReplicas>(MetadataCodec.Decode(MetadataCodec.Encode(with)));
        Assert.Equal(["a", "b"], decoded.Expected!.Value.ToArray());
        var without = Assert.IsType<SetReplicas>(MetadataCodec.Decode(MetadataCodec.Encode(new SetReplicas("b", "k", 9, ["a"]))));
        Assert.Null(without.Expected);
    }

    [Fact]
    public void RemoveMember_OfANonMember_ChangesNothing()
    {
        MetadataState state = TwoMembers().Apply(new RemoveMember("10.0.0.9:8080", 1), 3);
        Assert.Empty(state.Removed);
        Assert.Equal(2, state.Members.Count);
    }

    [Fact]
    public void SetMemberState_Drains_AndARejoinOfTheSameNodeKeepsTheState()
    {
        MetadataState draining = TwoMembers().Apply(new SetMemberState("10.0.0.4:8080", MemberState.Draining), 3);
        Assert.Equal(MemberState.Draining, draining.Members["10.0.0.4:8080"].State);

        // A restarted node re-sends its join (same uuid): it must not cancel its own drain.
        MetadataState rejoined = draining.Apply(new AddMember("10.0.0.4:8080", "10.0.0.4:8090", s_uuid), 4);
        Assert.Equal(MemberState.Draining, rejoined.Members["10.0.0.4:8080"].State);
        Assert.Equal(MemberState.Active, rejoined.Apply(new SetMemberState("10.0.0.4:8080", MemberState.Active), 5).Members["10.0.0.4:8080"].State);
    }

    [Fact]
    public void SetMaintenance_OnThenOff()
    {
        MetadataState on = TwoMembers().Apply(new SetMaintenance(new MaintenanceMode("disk swap", 99)), 3);
        Assert.Equal(new MaintenanceMode("disk swap", 99), on.Maintenance);
        Assert.Null(on.Apply(new SetMaintenance(null), 4).Maintenance);
    }

    [Fact]
    public void Snapshot_KeepsMemberStatesRemovedMembersAndMaintenance()
    {
        MetadataState state = TwoMembers()
            .Apply(new SetMemberState("10.0.0.1:8080", MemberState.Draining), 3)
            .Apply(new RemoveMember("10.0.0.4:8080", 1234), 4)
            .Apply(new SetMaintenance(new MaintenanceMode("upgrade", 5)), 5);
        MetadataState decoded = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state));
        Assert.Equal(MemberState.Draining, decoded.Members["10.0.0.1:8080"].State);
        Assert.Equal(state.Removed.Values, decoded.Removed.Values);
        Assert.Equal(state.Maintenance, decoded.Maintenance);
    }

    [Fact]
    public void Decode_RemoveMemberWrittenBeforeRemovalTimes_ReadsAsTimeZero()
    {
        // Format 1, kind 3, the node id alone: what builds before removal times wrote.
        byte[] old = [.. MetadataCodec.Encode(new RemoveMember("a:1", 0)).AsSpan(0, MetadataCodec.Encode(new RemoveMember("a:1", 0)).Length - 8)];
        Assert.Equal(new RemoveMember("a:1", 0), MetadataCodec.Decode(old));
    }

    [Fact]
    public void DecodeSnapshot_Version3_LoadsWithActiveMembersNoRemovalsAndNoMaintenance()
    {
        // A version 3 snapshot of one member and no buckets, byte by byte as that format wrote it.
        var writer = new List<byte>();
        writer.AddRange(BitConverter.GetBytes(0x534D_334Fu));
        writer.Add(3);
        writer.AddRange(BitConverter.GetBytes(7L));
        writer.AddRange(Guid.Empty.ToByteArray());
        writer.Add(0); // no settings
        writer.AddRange(BitConverter.GetBytes(1));
        byte[] snapshotOfMember = MetadataCodec.EncodeSnapshot(MetadataState.Empty.Apply(new AddMember("a:1", "a:2", s_uuid), 1));
        MetadataState fresh = MetadataCodec.DecodeSnapshot(snapshotOfMember);
        Assert.Equal(MemberState.Active, fresh.Members["a:1"].State);

        // Strings and the rest as the current writer encodes them (unchanged since version 1).
        int memberStart = 4 + 1 + 8 + 16 + 1 + 4;
        int memberLength = snapshotOfMember.Length - memberStart - 1 /* state */ - 4 /* buckets */ - 4 /* removed */ - 1 /* maintenance */ - 4 /* snapshots */ - 1 /* last restore */ - 4 /* cluster level */ - 4 /* key sources */;
        writer.AddRange(snapshotOfMember.AsSpan(memberStart, memberLength).ToArray());
        writer.AddRange(BitConverter.GetBytes(0)); // no buckets
        MetadataState decoded = MetadataCodec.DecodeSnapshot(writer.ToArray());
        Assert.Equal(MemberState.Active, decoded.Members["a:1"].State);
        Assert.Equal(s_uuid, decoded.Members["a:1"].Uuid);
        Assert.Empty(decoded.Removed);
        Assert.Null(decoded.Maintenance);
    }
}
