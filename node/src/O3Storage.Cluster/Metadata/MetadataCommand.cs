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

/// <summary>
/// Committed by the leader once Raft has removed the member's endpoint. The node is remembered as
/// removed (with its uuid) until a node of that id is added again, and it leaves every replica list:
/// its copies no longer count, so the objects it held show as under-replicated and are rebuilt, and a
/// wiped node that joins again under the same id is never taken for a holder of its old objects.
/// </summary>
public sealed record RemoveMember(string NodeId, long RemovedUnixMs) : MetadataCommand;

/// <summary>Marks a member draining (its replicas move away, placement skips it) or active again; a no-op for a non-member.</summary>
public sealed record SetMemberState(string NodeId, MemberState State) : MetadataCommand;

/// <summary>Turns cluster maintenance mode on (<paramref name="Mode"/>) or off (null).</summary>
public sealed record SetMaintenance(MaintenanceMode? Mode) : MetadataCommand;

/// <summary>Creates an empty bucket; a no-op when it exists (the API then answers BucketAlreadyOwnedByYou).</summary>
public sealed record CreateBucket(string Name, long CreatedUnixMs) : MetadataCommand;

/// <summary>Removes a bucket if it exists and is empty; otherwise a no-op the API reports from the state.</summary>
public sealed record DeleteBucket(string Name) : MetadataCommand;

/// <summary>
/// Makes <paramref name="Version"/> the current version of its key (its VersionIndex is replaced by the
/// committing index). A no-op when the bucket no longer exists: the blobs then become garbage.
/// </summary>
public sealed record PutObject(string Bucket, ObjectVersion Version) : MetadataCommand;

/// <summary>
/// A PutObject of a small object whose one blob travels in the entry itself (<paramref name="Content"/>):
/// one Raft round instead of a blob transfer to each replica first. Applied as a PutObject; every node
/// named in the version's replicas stores the content when it applies the entry (see IInlineBlobSink),
/// and the log keeps the entry until that store is durable. Never part of the state: only the entry holds it.
/// </summary>
public sealed record PutInline(string Bucket, ObjectVersion Version, ReadOnlyMemory<byte> Content) : MetadataCommand;

/// <summary>
/// A PutObject whose blobs are those of another object's version (CopyObject): applied only while that
/// source version is still current, so the copy never refers to blobs the collector may be taking.
/// </summary>
public sealed record PutCopy(string Bucket, ObjectVersion Version, string SourceBucket, string SourceKey, long SourceVersionIndex) : MetadataCommand;

/// <summary>Removes the current version of a key; a no-op when there is none (S3 deletes are idempotent).</summary>
public sealed record DeleteObject(string Bucket, string Key) : MetadataCommand;

/// <summary>Starts a multipart upload; a no-op when the bucket is gone or the upload id exists.</summary>
public sealed record CreateMultipartUpload(string Bucket, MultipartUpload Upload) : MetadataCommand;

/// <summary>Records (or replaces) one part of an upload in progress; a no-op when the upload is gone (the part's blobs become garbage).</summary>
public sealed record PutPart(string Bucket, string UploadId, UploadedPart Part) : MetadataCommand;

/// <summary>
/// Ends an upload: <paramref name="Version"/> (built from the chosen parts) becomes the key's current
/// version and the upload disappears. A no-op when the upload is gone (completed or aborted meanwhile)
/// or no longer holds every blob the version names (a part was uploaded again meanwhile).
/// </summary>
public sealed record CompleteMultipartUpload(string Bucket, string UploadId, ObjectVersion Version) : MetadataCommand;

/// <summary>Drops an upload and its parts; a no-op when it is gone.</summary>
public sealed record AbortMultipartUpload(string Bucket, string UploadId) : MetadataCommand;

/// <summary>
/// Records that the version <paramref name="VersionIndex"/> of a key now lives on <paramref name="Replicas"/>
/// (a move copied its blobs to new holders). A no-op when the key has another version by then (the
/// copies become garbage), or when <paramref name="Expected"/> is given and the version's replicas are
/// no longer that set: a move planned from an older replica set (a deposed leader's, or one whose
/// proposal timed out and committed late) must not bring back a holder a newer commit released.
/// </summary>
public sealed record SetReplicas(string Bucket, string Key, long VersionIndex, System.Collections.Immutable.ImmutableArray<string> Replicas, System.Collections.Immutable.ImmutableArray<string>? Expected = null) : MetadataCommand;

/// <summary>
/// Several bucket and object commands committed as one log entry (a node batches what its clients
/// proposed while its previous proposal was in flight), applied in order at the entry's index; never
/// nested, never membership changes.
/// </summary>
public sealed record Batch(IReadOnlyList<MetadataCommand> Commands) : MetadataCommand
{
    public static bool MayHold(MetadataCommand command) =>
        command is CreateBucket or DeleteBucket or PutObject or PutInline or PutCopy or DeleteObject or CreateMultipartUpload or PutPart or CompleteMultipartUpload or AbortMultipartUpload or SetReplicas;
}

/// <summary>Records the object namespace as it is now under <paramref name="Name"/>; a no-op when a snapshot of that name exists.</summary>
public sealed record CreateSnapshot(string Name, long CreatedUnixMs) : MetadataCommand;

/// <summary>Forgets a snapshot (its blobs become garbage unless something else refers to them); a no-op when there is none.</summary>
public sealed record DeleteSnapshot(string Name) : MetadataCommand;

/// <summary>
/// Sets the object namespace back to the snapshot <paramref name="Name"/>: objects written after it
/// disappear, ones deleted after it come back. Applied only when the last restore is still the one the
/// proposer saw (<paramref name="ExpectedLastRestoreIndex"/>, 0 for none), so a proposal that commits
/// twice (retried after a leader change) or races another restore changes nothing the second time. A
/// no-op when the snapshot is gone.
/// </summary>
public sealed record RestoreSnapshot(string Name, long RequestedUnixMs, long ExpectedLastRestoreIndex) : MetadataCommand;

/// <summary>
/// Makes this cluster a new incarnation of the one whose log it carries (<c>--bootstrap</c> on a node with
/// state, when no member of its cluster answered): the members are <paramref name="NodeId"/> alone, the
/// others join again with <c>--peers</c>; objects, buckets and snapshots stay, their replica lists too,
/// so a node that joins again keeps the copies it holds.
/// </summary>
public sealed record RefoundCluster(Guid IncarnationId, string NodeId, long UnixMs) : MetadataCommand;

/// <summary>
/// Raises the cluster's metadata level (never lowers it): committed by the leader once every member
/// says it reads <paramref name="Level"/>; from then on commands of that level may be committed, and a
/// node whose build reads less may not join.
/// </summary>
public sealed record SetClusterLevel(int Level) : MetadataCommand;

/// <summary>
/// Replaces the API keys <paramref name="Source"/> gives the cluster: a member's <c>api-keys.txt</c> (the
/// source is its node id; the member proposes it whenever the file changes) or the first admin key a
/// closed cluster made at bootstrap (<see cref="ClusterKey.FirstAdminSource"/>). Every node honours the
/// keys of every source. An empty list stays as the source's entry: a member whose file holds no keys,
/// or a first admin key the owner retired (never made again).
/// </summary>
public sealed record SetApiKeys(string Source, System.Collections.Immutable.ImmutableArray<ClusterKey> Keys) : MetadataCommand;

#if O3STORAGE_NEXT_LEVEL_TEST
/// <summary>Test-only (the "N+1" build of the rolling-update test): a record of the next level that changes nothing.</summary>
public sealed record TestNote(string Text) : MetadataCommand;
#endif
