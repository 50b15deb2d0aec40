using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

public sealed class MetadataStateTests
{
    private static readonly Guid s_uuidA = Guid.Parse("00000000-0000-0000-0000-00000000000a");
    private static readonly Guid s_uuidB = Guid.Parse("00000000-0000-0000-0000-00000000000b");

    [Fact]
    public void Apply_AddThenRemove_TracksMembersByNodeId()
    {
        MetadataState state = MetadataState.Empty
            .Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", s_uuidA), 1)
            .Apply(new AddMember("10.0.0.2:8080", "10.0.0.2:8090", s_uuidB), 2);
        Assert.Equal(["10.0.0.1:8080", "10.0.0.2:8080"], state.Members.Keys);
        Assert.Equal("10.0.0.2:8080", state.FindByClusterEndPoint("10.0.0.2:8090")?.NodeId);

        state = state.Apply(new RemoveMember("10.0.0.1:8080", 7), 3);
        Assert.Equal(["10.0.0.2:8080"], state.Members.Keys);
        Assert.Equal(3, state.LastAppliedIndex);
    }

    [Fact]
    public void Apply_IsPure_OldStateUnchanged()
    {
        MetadataState before = MetadataState.Empty.Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", s_uuidA), 1);
        MetadataState after = before.Apply(new RemoveMember("10.0.0.1:8080", 7), 2);
        Assert.Single(before.Members);
        Assert.Empty(after.Members);
    }

    [Fact]
    public void Apply_SameUuidAgain_KeepsOriginalJoinIndex()
    {
        MetadataState state = MetadataState.Empty
            .Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", s_uuidA), 4)
            .Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", s_uuidA), 9);
        Assert.Equal(4, state.Members["10.0.0.1:8080"].JoinedAtIndex);
    }

    [Fact]
    public void Apply_NewNodeOnAnotherMembersClusterEndPoint_ReplacesThatMember()
    {
        MetadataState state = MetadataState.Empty
            .Apply(new AddMember("10.0.0.1:8080", "10.0.0.1:8090", s_uuidA), 1)
            .Apply(new AddMember("10.0.0.1:9080", "10.0.0.1:8090", s_uuidB), 2);
        Assert.Equal(["10.0.0.1:9080"], state.Members.Keys);
    }

    [Fact]
    public void Apply_IndexNotIncreasing_IsAProgrammerError()
    {
        MetadataState state = MetadataState.Empty.Apply(new RemoveMember("x:1", 7), 5);
        Assert.Throws<InvalidOperationException>(() => state.Apply(new RemoveMember("x:1", 7), 5));
    }

    [Fact]
    public void Skip_AdvancesIndexOnly()
    {
        MetadataState state = MetadataState.Empty.Apply(new AddMember("a:1", "a:2", s_uuidA), 1).Skip(7);
        Assert.Equal(7, state.LastAppliedIndex);
        Assert.Single(state.Members);
        Assert.Same(state, state.Skip(3));
    }
}
