using O3Storage.Firmware.Status;

namespace O3Storage.Firmware.Tests;

public sealed class NodeStatusRuleTests
{
    private static readonly NodeFacts s_healthyFollower = new(
        Serving: true, Discovering: false, Joining: false, Faulted: false, MaintenanceOn: false,
        HasQuorum: true, UnderReplicated: false, IsLeader: false);

    private static readonly NodeFacts s_justStarted = s_healthyFollower with { Serving = false, HasQuorum = false };

    [Fact]
    public void AServingMemberWithQuorum_IsAHealthyFollower_OrTheLeader()
    {
        Assert.Equal(NodeStatus.FollowerHealthy, NodeStatusRule.Choose(s_healthyFollower));
        Assert.Equal(NodeStatus.Leader, NodeStatusRule.Choose(s_healthyFollower with { IsLeader = true }));
    }

    [Fact]
    public void LostQuorumOrUnderReplicatedData_ShowsDegraded_EvenOnTheLeader()
    {
        Assert.Equal(NodeStatus.Degraded, NodeStatusRule.Choose(s_healthyFollower with { HasQuorum = false }));
        Assert.Equal(NodeStatus.Degraded, NodeStatusRule.Choose(s_healthyFollower with { UnderReplicated = true, IsLeader = true }));
    }

    [Fact]
    public void AFault_WinsOverEverything()
    {
        var everything = new NodeFacts(true, true, true, Faulted: true, MaintenanceOn: true, HasQuorum: false, UnderReplicated: true, IsLeader: true);
        Assert.Equal(NodeStatus.Fault, NodeStatusRule.Choose(everything));
        Assert.Equal(NodeStatus.Fault, NodeStatusRule.Choose(s_justStarted with { Faulted = true }));
    }

    [Fact]
    public void Maintenance_WinsOverDegradedAndOverStartingUp()
    {
        Assert.Equal(NodeStatus.Maintenance, NodeStatusRule.Choose(s_healthyFollower with { MaintenanceOn = true, HasQuorum = false, IsLeader = true }));
        Assert.Equal(NodeStatus.Maintenance, NodeStatusRule.Choose(s_justStarted with { MaintenanceOn = true, Joining = true }));
    }

    [Fact]
    public void BeforeServing_JoiningBeatsDiscoveringBeatsBooting()
    {
        Assert.Equal(NodeStatus.Booting, NodeStatusRule.Choose(s_justStarted));
        Assert.Equal(NodeStatus.Discovering, NodeStatusRule.Choose(s_justStarted with { Discovering = true }));
        Assert.Equal(NodeStatus.Joining, NodeStatusRule.Choose(s_justStarted with { Discovering = true, Joining = true }));
    }

    [Fact]
    public void BeforeServing_QuorumFactsDoNotMatter_NoDegradedWhileJoining()
    {
        Assert.Equal(NodeStatus.Joining, NodeStatusRule.Choose(s_justStarted with { Joining = true, UnderReplicated = true, IsLeader = true }));
    }
}
