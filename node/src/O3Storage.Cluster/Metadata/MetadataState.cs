// Owns: the replicated metadata, as an immutable value. Apply returns a new state, so readers on
// HTTP threads see a consistent snapshot without locks while the Raft apply loop moves on.
// Assumes: commands arrive in log order, each exactly once (the WAL guarantees it).
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

public sealed class MetadataState
{
    private MetadataState(long lastAppliedIndex, Guid incarnationId, ClusterSettings? settings, ImmutableSortedDictionary<string, MemberRecord> members)
    {
        LastAppliedIndex = lastAppliedIndex;
        IncarnationId = incarnationId;
        Settings = settings;
        Members = members;
    }

    public static MetadataState Empty { get; } = new(0, Guid.Empty, null, ImmutableSortedDictionary<string, MemberRecord>.Empty.WithComparers(StringComparer.Ordinal));

    public long LastAppliedIndex { get; }

    /// <summary>Identifies one bootstrap of a cluster; a new <c>--bootstrap</c> makes a new incarnation.</summary>
    public Guid IncarnationId { get; }

    /// <summary>Null until the bootstrap node has committed <see cref="InitializeCluster"/>.</summary>
    public ClusterSettings? Settings { get; }

    /// <summary>Members by node id (<c>ip:port</c>), ordinal order.</summary>
    public ImmutableSortedDictionary<string, MemberRecord> Members { get; }

    public static MetadataState Create(long lastAppliedIndex, Guid incarnationId, ClusterSettings? settings, IEnumerable<MemberRecord> members) =>
        new(lastAppliedIndex, incarnationId, settings, Empty.Members.AddRange(members.Select(m => KeyValuePair.Create(m.NodeId, m))));

    public MemberRecord? FindByClusterEndPoint(string clusterEndPoint) =>
        Members.Values.FirstOrDefault(m => string.Equals(m.ClusterEndPoint, clusterEndPoint, StringComparison.Ordinal));

    public MetadataState Apply(MetadataCommand command, long index)
    {
        if (index <= LastAppliedIndex)
        {
            throw new InvalidOperationException($"log index {index} applied after {LastAppliedIndex}: the log went backwards");
        }

        return command switch
        {
            InitializeCluster init => new MetadataState(index, init.IncarnationId, init.Settings, Members),
            AddMember add => new MetadataState(index, IncarnationId, Settings, AddOrReplace(add, index)),
            RemoveMember remove => new MetadataState(index, IncarnationId, Settings, Members.Remove(remove.NodeId)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown command"),
        };
    }

    /// <summary>Records a log index that carried no metadata command (Raft configuration or no-op entries).</summary>
    public MetadataState Skip(long index) =>
        index <= LastAppliedIndex ? this : new MetadataState(index, IncarnationId, Settings, Members);

    private ImmutableSortedDictionary<string, MemberRecord> AddOrReplace(AddMember add, long index)
    {
        // A node that reuses another member's cluster endpoint replaces it: Raft knows members by endpoint.
        ImmutableSortedDictionary<string, MemberRecord> members = Members;
        foreach (MemberRecord existing in Members.Values)
        {
            if (existing.NodeId != add.NodeId && existing.ClusterEndPoint == add.ClusterEndPoint)
            {
                members = members.Remove(existing.NodeId);
            }
        }

        long joinedAt = Members.TryGetValue(add.NodeId, out MemberRecord? previous) && previous.Uuid == add.Uuid
            ? previous.JoinedAtIndex
            : index;
        return members.SetItem(add.NodeId, new MemberRecord(add.NodeId, add.ClusterEndPoint, add.Uuid, joinedAt));
    }
}
