// Owns: the commands of the replicated metadata state machine.
// Each command is a versioned binary record (see MetadataCodec); a node refuses, loudly, a record it
// does not understand rather than guessing, so a rolling update can never silently diverge state.
namespace O3Storage.Cluster.Metadata;

public abstract record MetadataCommand
{
    private protected MetadataCommand()
    {
    }
}

/// <summary>Committed by the bootstrap node: names the cluster and fixes its settings.</summary>
public sealed record InitializeCluster(ClusterSettings Settings, Guid IncarnationId) : MetadataCommand;

/// <summary>Committed by the leader after Raft has added the member's endpoint to its configuration.</summary>
public sealed record AddMember(string NodeId, string ClusterEndPoint, Guid Uuid) : MetadataCommand;

/// <summary>Committed by the leader before Raft removes the member's endpoint.</summary>
public sealed record RemoveMember(string NodeId) : MetadataCommand;
