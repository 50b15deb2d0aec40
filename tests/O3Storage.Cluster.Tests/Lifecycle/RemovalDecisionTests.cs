using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Lifecycle.LifecycleScenario;

namespace O3Storage.Cluster.Tests.Lifecycle;

public sealed class RemovalDecisionTests
{
    private static readonly TimeSpan s_minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void ALiveNode_IsDrained_AndWithForce_RemovedAtOnce()
    {
        MetadataState state = PutMany(Members(4), 20);
        Assert.Equal(new StartDrain(Node(4)), RemovalDecision.Decide(state, Live(), Node(4), force: false));
        Assert.Equal(new RemoveNow(Node(4), true), RemovalDecision.Decide(state, Live(), Node(4), force: true));
    }

    [Fact]
    public void ADeadNode_IsRemovedAtOnce()
    {
        MetadataState state = PutMany(Members(4), 20);
        Assert.Equal(new RemoveNow(Node(4), false), RemovalDecision.Decide(state, Live((4, s_minute)), Node(4), force: false));
    }

    [Fact]
    public void UnknownAndRemovedNodes_Are404()
    {
        MetadataState state = Members(4).Apply(new RemoveMember(Node(4), 1_700_000_000_000), 100);
        var unknown = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live(), "10.9.9.9:8080", false));
        Assert.Equal(404, unknown.Status);
        Assert.Contains(Node(1), unknown.Detail);
        var removed = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live(), Node(4), false));
        Assert.Equal(404, removed.Status);
        Assert.Contains("removed at 2023-11-14", removed.Detail);
    }

    [Fact]
    public void TheLastNode_IsRefused()
    {
        var refused = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(Members(1, replication: 1), Live(), Node(1), true));
        Assert.Equal((409, "10.0.0.1:8080 is the last member"), (refused.Status, refused.Error));
    }

    [Fact]
    public void ARemovalThatLeavesNoQuorum_IsRefused_EvenWithForce()
    {
        // Five members, two down: removing a live one leaves two of four answering.
        MetadataState state = Members(5);
        var refused = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live((4, s_minute), (5, s_minute)), Node(1), true));
        Assert.Equal(409, refused.Status);
        Assert.Contains("quorum", refused.Error);

        // Removing one of the dead ones leaves three of four answering: fine.
        Assert.IsType<RemoveNow>(RemovalDecision.Decide(state, Live((4, s_minute), (5, s_minute)), Node(5), false));
    }

    [Fact]
    public void FewerMembersThanTheReplicationFactor_NeedsForce()
    {
        MetadataState state = PutMany(Members(3), 10);
        var refused = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live((3, s_minute)), Node(3), false));
        Assert.Equal(409, refused.Status);
        Assert.Contains("fewer than replication_factor 3", refused.Error);
        Assert.Equal(new RemoveNow(Node(3), false), RemovalDecision.Decide(state, Live((3, s_minute)), Node(3), true));
    }

    [Fact]
    public void TheLastHolderOfObjects_IsRefused_DeadWithoutForce_LiveWithForce()
    {
        MetadataState state = Put(Members(4), "only-here", Node(4));
        var dead = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live((4, s_minute)), Node(4), false));
        Assert.Contains("1 objects have their only copy on 10.0.0.4:8080, which is down", dead.Error);
        Assert.IsType<RemoveNow>(RemovalDecision.Decide(state, Live((4, s_minute)), Node(4), true));

        var live = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live(), Node(4), true));
        Assert.Contains("without \"force\"", live.Detail);
        Assert.IsType<StartDrain>(RemovalDecision.Decide(state, Live(), Node(4), false)); // draining copies it first
    }

    [Fact]
    public void ThePartsOfAnUploadInProgress_CountAsCopiesToo()
    {
        MetadataState state = Members(4);
        state = state.Apply(new CreateMultipartUpload("b", new MultipartUpload("u", "m", 0, "t", [], MultipartUpload.NoParts)), state.LastAppliedIndex + 1);
        state = state.Apply(new PutPart("b", "u", new UploadedPart(1, "\"p\"", 10, 0, [new BlobRef(5, 10, 5)], [Node(4)])), state.LastAppliedIndex + 1);
        var refused = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live((4, s_minute)), Node(4), false));
        Assert.StartsWith("1 objects have their only copy", refused.Error);
        Assert.False(MembershipCleanup.HoldsNothing(state, Node(4)));
    }

    [Fact]
    public void ADrainedMember_IsNotRemovedWhileItsRemovalWouldCostTheQuorum()
    {
        MetadataState state = Members(5).Apply(new SetMemberState(Node(5), MemberState.Draining), 100);
        Assert.Equal(Node(5), MembershipCleanup.DrainedMember(state, Live()));
        Assert.Null(MembershipCleanup.DrainedMember(state, Live((3, s_minute), (4, s_minute)))); // 2 of the remaining 4 answer
    }

    [Fact]
    public void OneRemovalAtATime()
    {
        MetadataState state = Members(5).Apply(new SetMemberState(Node(5), MemberState.Draining), 100);
        var refused = Assert.IsType<RemovalRefused>(RemovalDecision.Decide(state, Live(), Node(4), false));
        Assert.Equal((409, "another removal is in progress"), (refused.Status, refused.Error));
        Assert.Equal(new AlreadyDraining(Node(5)), RemovalDecision.Decide(state, Live(), Node(5), false));
        Assert.IsType<RemoveNow>(RemovalDecision.Decide(state, Live(), Node(5), true)); // force ends a drain
    }
}
