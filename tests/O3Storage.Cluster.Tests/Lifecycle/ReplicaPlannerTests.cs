using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Lifecycle.LifecycleScenario;

namespace O3Storage.Cluster.Tests.Lifecycle;

public sealed class ReplicaPlannerTests
{
    [Fact]
    public void ScaleUp_3To5_MovesAboutTwoFifthsOfTheReplicas_AndEndsWithinTenPercentOfTheMean()
    {
        MetadataState state = PutMany(Members(3), 500);
        Assert.All(Enumerable.Range(1, 3), i => Assert.Equal(500, state.ObjectsByReplica[Node(i)]));
        state = Add(Add(state, 4), 5);

        PlacementSurvey before = ReplicaPlanner.Survey(state, Live());
        Assert.Equal(0, before.UnderReplicated);
        Assert.InRange(before.Misplaced, 300, 500);

        (MetadataState after, int moves) = Converge(state, Live());
        Assert.Equal(before.Misplaced, moves); // one move per misplaced object, no object moved twice
        double mean = after.ObjectsByReplica.Values.Average();
        Assert.Equal(300, mean);
        Assert.All(Enumerable.Range(1, 5), i => Assert.InRange(after.ObjectsByReplica[Node(i)], mean * 0.9, mean * 1.1));
        Assert.All(after.Buckets["b"].Objects, v => Assert.Equal(3, v.Replicas.Length));
        Assert.Equal(0, ReplicaPlanner.Survey(after, Live()).Misplaced);
    }

    [Fact]
    public void AHolderDownWithinTheGrace_MovesNothing()
    {
        // A rolling update's stop-start: node 3 is down for a minute.
        MetadataState state = PutMany(Members(3), 50);
        Assert.Empty(ReplicaPlanner.Plan(state, Live((3, TimeSpan.FromMinutes(1))), 100));
        Assert.Equal(0, ReplicaPlanner.Survey(state, Live((3, TimeSpan.FromMinutes(1)))).UnderReplicated);
    }

    [Fact]
    public void AHolderDeadPastTheGrace_IsReplacedOnTheNextMember_AndDropped()
    {
        MetadataState state = PutMany(Members(4), 100);
        MemberLiveness live = Live((4, TimeSpan.FromMinutes(6)));
        long onFour = state.ObjectsByReplica[Node(4)];
        Assert.Equal(onFour, ReplicaPlanner.Survey(state, live).UnderReplicated);

        List<ReplicaMove> moves = ReplicaPlanner.Plan(state, live, 1000);
        Assert.Equal(onFour, moves.Count);
        Assert.All(moves, m => Assert.Equal(MoveReason.Repair, m.Reason));
        Assert.All(moves, m => Assert.DoesNotContain(Node(4), m.CopyTo));
        Assert.All(moves, m => Assert.DoesNotContain(Node(4), m.Sources));

        (MetadataState after, _) = Converge(state, live);
        Assert.Equal(0, after.ObjectsByReplica.GetValueOrDefault(Node(4)));
        Assert.Equal(0, ReplicaPlanner.Survey(after, live).UnderReplicated);
        Assert.Equal(Node(4), MembershipCleanup.DeadMember(after, live)); // four voters: autopilot may take it out
    }

    [Fact]
    public void ADeadNodeInAThreeNodeCluster_LeavesObjectsUnderReplicated_AndStaysAVoter()
    {
        MetadataState state = PutMany(Members(3), 20);
        MemberLiveness live = Live((3, TimeSpan.FromHours(1)));
        (MetadataState after, _) = Converge(state, live);
        Assert.Equal(20, ReplicaPlanner.Survey(after, live).UnderReplicated); // two copies where three are wanted: honest
        Assert.Null(MembershipCleanup.DeadMember(after, live)); // never below three voters
    }

    [Fact]
    public void ADrainingMember_HandsEveryObjectToTheOthers_ThenIsDrained()
    {
        MetadataState state = PutMany(Members(4), 100).Apply(new SetMemberState(Node(2), MemberState.Draining), 1000);
        Assert.All(ReplicaPlanner.Plan(state, Live(), 1000), m => Assert.Equal(MoveReason.Drain, m.Reason));
        Assert.Null(MembershipCleanup.DrainedMember(state, Live()));

        (MetadataState after, _) = Converge(state, Live());
        Assert.Equal(0, after.ObjectsByReplica.GetValueOrDefault(Node(2)));
        Assert.All(after.Buckets["b"].Objects, v => Assert.Equal(3, v.Replicas.Length));
        Assert.Equal(Node(2), MembershipCleanup.DrainedMember(after, Live()));
    }

    [Fact]
    public void ATargetThatIsDown_GetsNoCopy_AndNoHolderIsDroppedMeanwhile()
    {
        MetadataState state = Put(Members(4), "k", Node(1), Node(2), Node(3));
        state = state.Apply(new SetMemberState(Node(3), MemberState.Draining), state.LastAppliedIndex + 1);
        // Node 3 drains; its replacement in the placement is node 4, which is down (within the grace).
        ReplicaMove? move = ReplicaPlanner.PlanOne(state, Live((4, TimeSpan.FromSeconds(30))), "b", state.FindObject("b", "k")!);
        Assert.Null(move);
    }

    [Fact]
    public void NoHolderAnswers_NothingToCopyFrom()
    {
        MetadataState state = Put(Members(4), "k", Node(1), Node(2));
        Assert.Null(ReplicaPlanner.PlanOne(state, Live((1, TimeSpan.FromSeconds(10)), (2, TimeSpan.FromSeconds(10))), "b", state.FindObject("b", "k")!));
    }

    [Fact]
    public void ReplicasOnARemovedNode_NoLongerCount()
    {
        MetadataState state = Put(Members(4), "k", Node(1), Node(2), Node(4));
        state = state.Apply(new RemoveMember(Node(4), 1), state.LastAppliedIndex + 1);
        ReplicaMove move = ReplicaPlanner.PlanOne(state, Live(), "b", state.FindObject("b", "k")!)!;
        Assert.Equal(MoveReason.Repair, move.Reason);
        Assert.Equal([Node(3)], move.CopyTo.ToArray());
        Assert.DoesNotContain(Node(4), move.Replicas);
    }

    [Fact]
    public void WithoutDrops_KeepsEveryHolderAndAddsTheCopies()
    {
        MetadataState state = Put(Members(4), "k", Node(1), Node(4));
        var move = new ReplicaMove("b", state.FindObject("b", "k")!, [Node(1)], [Node(2), Node(3)], [Node(1), Node(2), Node(3)], MoveReason.Rebalance);
        Assert.Equal([Node(1), Node(4), Node(3)], move.WithoutDrops([Node(3)]).ToArray());
    }

    [Fact]
    public void AfterANewIncarnation_ReplicasOnNodesNotJoinedAgain_StayListed_SoTheyKeepTheirCopiesWhenTheyJoin()
    {
        // Node 1 started a new cluster from its data (a restore, or one side of a split): 2 and 3 are not members yet.
        MetadataState state = PutMany(Members(3), 60);
        state = state.Apply(new RefoundCluster(Guid.NewGuid(), Node(1), 0), state.LastAppliedIndex + 1);
        Assert.Equal([Node(1)], state.Members.Keys);

        (MetadataState alone, _) = Converge(state, Live());
        Assert.All(alone.Buckets["b"].Objects, v => Assert.Equal([Node(1), Node(2), Node(3)], v.Replicas.Order()));
        Assert.Equal(0, ReplicaPlanner.Survey(alone, Live()).UnderReplicated); // one member: one copy is all it can have

        // Node 2 joins again: its copies count at once, nothing is copied to it.
        MetadataState joined = Add(alone, 2);
        Assert.Empty(ReplicaPlanner.Plan(joined, Live(), 1000));
        Assert.Equal(60, joined.ObjectsByReplica[Node(2)]);
    }
}
