using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Lifecycle;

/// <summary>A cluster's metadata built up in plain code, and the moves the planner asks for applied as the leader would commit them.</summary>
internal static class LifecycleScenario
{
    public static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    public static string Node(int i) => $"10.0.0.{i}:8080";

    public static MetadataState Members(int count, int replication = 3)
    {
        MetadataState state = MetadataState.Empty.Apply(new InitializeCluster(new ClusterSettings("lab", replication, ConsistencyLevel.Strong), Guid.NewGuid()), 1);
        for (int i = 1; i <= count; i++)
        {
            state = state.Apply(new AddMember(Node(i), $"10.0.0.{i}:8090", Guid.NewGuid()), state.LastAppliedIndex + 1);
        }

        return state.Apply(new CreateBucket("b", 1), state.LastAppliedIndex + 1);
    }

    public static MetadataState Add(MetadataState state, int node) =>
        state.Apply(new AddMember(Node(node), $"10.0.0.{node}:8090", Guid.NewGuid()), state.LastAppliedIndex + 1);

    public static MetadataState Put(MetadataState state, string key, params string[] replicas) =>
        state.Apply(new PutObject("b", new ObjectVersion(key, 0, 100, "\"e\"", "t", 0, [], [new BlobRef((UInt128)key.GetHashCode(StringComparison.Ordinal) + 1, 100, 7)], [.. replicas])), state.LastAppliedIndex + 1);

    /// <summary>Objects written while <paramref name="members"/> were the cluster, each on its placement then.</summary>
    public static MetadataState PutMany(MetadataState state, int count)
    {
        for (int i = 0; i < count; i++)
        {
            string key = $"object-{i:D4}";
            var plan = O3Storage.Cluster.Placement.ObjectPlacement.Place(state, "b", key);
            state = Put(state, key, [.. plan.Ranked.Take(plan.Wanted)]);
        }

        return state;
    }

    public static MemberLiveness Live(params (int Node, TimeSpan Down)[] down) =>
        new(Now, Grace, down.ToDictionary(d => Node(d.Node), d => Now - d.Down));

    /// <summary>Runs the planner and commits every move (all copies succeed) until nothing is left; how many rounds it took.</summary>
    public static (MetadataState State, int Moves) Converge(MetadataState state, MemberLiveness live)
    {
        int moves = 0;
        for (int round = 0; round < 100; round++)
        {
            List<ReplicaMove> plan = ReplicaPlanner.Plan(state, live, 64);
            if (plan.Count == 0)
            {
                return (state, moves);
            }

            foreach (ReplicaMove move in plan)
            {
                state = state.Apply(new SetReplicas(move.Bucket, move.Version.Key, move.Version.VersionIndex, move.Replicas), state.LastAppliedIndex + 1);
                moves++;
            }
        }

        throw new InvalidOperationException("the planner did not converge in 100 rounds");
    }
}
