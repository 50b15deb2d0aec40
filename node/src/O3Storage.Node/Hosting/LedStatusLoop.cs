// Owns: keeping the status LED in step with the serving node: twice a second it evaluates what
// /health would say and shows the pattern NodeStatusRule picks (leader, follower, degraded, fault).
// Before serving, NodeHost sets booting/discovering/joining itself.
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Raft;
using O3Storage.Firmware.Status;

namespace O3Storage.Node.Hosting;

internal sealed class LedStatusLoop(NodeContext node, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    public async Task RunAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            node.Hardware.SetStatus(NodeStatusRule.Choose(Facts(node, time)));
        }
        while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false));
    }

    /// <summary>The facts of a serving node, from the same evaluation /health makes.</summary>
    public static NodeFacts Facts(NodeContext node, TimeProvider time)
    {
        (HealthReport report, _) = HealthEvaluator.Evaluate(node.CaptureHealthInputs() with { Hardware = null }, node.Peers, time.GetUtcNow());
        return new NodeFacts(
            Serving: true,
            Discovering: false,
            Joining: false,
            Faulted: node.Raft.StateMachine.Faulted.IsCompleted,
            MaintenanceOn: report.Cluster.Maintenance.Enabled,
            HasQuorum: report.Cluster.HasQuorum,
            UnderReplicated: report.Cluster.ActiveNodes < report.Cluster.TotalNodes || report.Storage.UnderReplicatedObjects > 0,
            IsLeader: node.Raft.Role == NodeRole.Leader);
    }
}
