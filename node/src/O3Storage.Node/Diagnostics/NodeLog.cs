using Microsoft.Extensions.Logging;

namespace O3Storage.Node.Diagnostics;

/// <summary>Source-generated log messages with stable event ids (1xxx: lifecycle, 2xxx: membership).</summary>
internal static partial class NodeLog
{
    [LoggerMessage(1001, LogLevel.Information, "o3storage {Version} node {NodeId} (cluster endpoint {ClusterEndPoint}, data {DataDirectory})")]
    public static partial void Starting(ILogger logger, string version, string nodeId, string clusterEndPoint, string dataDirectory);

    [LoggerMessage(1002, LogLevel.Information, "serving on http://{NodeId} after {ElapsedMs} ms as {Role}")]
    public static partial void Serving(ILogger logger, string nodeId, long elapsedMs, string role);

    [LoggerMessage(1003, LogLevel.Information, "stopping: {Reason}")]
    public static partial void Stopping(ILogger logger, string reason);

    [LoggerMessage(1004, LogLevel.Information, "stopped after handing over in {ElapsedMs} ms")]
    public static partial void Stopped(ILogger logger, long elapsedMs);

    [LoggerMessage(1005, LogLevel.Warning, "--bootstrap ignored: --data holds the state of a member of cluster {ClusterId} and {Reason}; resuming as its member (to start a new cluster from this data, stop every other member first)")]
    public static partial void BootstrapIgnored(ILogger logger, string clusterId, string reason);

    [LoggerMessage(1030, LogLevel.Warning, "--bootstrap on existing state: no member of cluster {ClusterId} (incarnation {Incarnation}) answered as one within {Seconds} s ({Detail}); starting a new cluster from this node's data ({Objects} objects in {Buckets} buckets, {Snapshots} snapshots). The other nodes join it with --peers {NodeId}; their copies count again once they have")]
    public static partial void Refounding(ILogger logger, string clusterId, Guid incarnation, double seconds, string detail, long objects, int buckets, int snapshots, string nodeId);

    [LoggerMessage(1031, LogLevel.Information, "new cluster {ClusterId} (incarnation {Incarnation}) started from this node's data; the previous Raft membership is kept in {Aside}")]
    public static partial void Refounded(ILogger logger, string clusterId, Guid incarnation, string aside);

    [LoggerMessage(1032, LogLevel.Warning, "--data holds the state of another cluster than {Peer}'s ({Detail}): joining {Peer}'s cluster as a new member, keeping this node's blobs (its copies count again once the cluster adds it); the old Raft state is kept in {Aside}")]
    public static partial void JoiningAnew(ILogger logger, string peer, string detail, string aside);

    [LoggerMessage(1006, LogLevel.Warning, "removing state of an interrupted join from {Directory}")]
    public static partial void RemovingInterruptedJoin(ILogger logger, string directory);

    [LoggerMessage(1035, LogLevel.Warning, "the bootstrap had finished but was stopped before it recorded its membership: resuming as the member its log in {Directory} names")]
    public static partial void BootstrapFinished(ILogger logger, string directory);

    [LoggerMessage(1007, LogLevel.Critical, "metadata apply failed; this node stops rather than diverge")]
    public static partial void ApplyFailed(ILogger logger, Exception exception);

    [LoggerMessage(1008, LogLevel.Information, "stopped by {Reason} while starting")]
    public static partial void StoppedWhileStarting(ILogger logger, string reason);

    [LoggerMessage(1009, LogLevel.Warning, "resuming an interrupted join with the Raft state in {Directory}")]
    public static partial void ResumingJoin(ILogger logger, string directory);

    [LoggerMessage(1010, LogLevel.Error, "peer monitor round failed")]
    public static partial void MonitorRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(1033, LogLevel.Warning, "a TLS handshake costs {HandshakeMs} ms of CPU on this board (a Pi 4: a few): connections to peers get {ConnectMs} ms, the election timeout is {LowerMs}-{UpperMs} ms, so failover is that much slower")]
    public static partial void SlowHandshake(ILogger logger, long handshakeMs, long connectMs, long lowerMs, long upperMs);

    [LoggerMessage(1034, LogLevel.Warning, "could not time a TLS handshake on this board ({Reason}); the usual Raft timeouts apply")]
    public static partial void HandshakeProbeFailed(ILogger logger, string reason);

    [LoggerMessage(1011, LogLevel.Information, "board {Board}: status LED {LedDriver}, temperature {Temperature}")]
    public static partial void Board(ILogger logger, string board, string ledDriver, string temperature);

    [LoggerMessage(1012, LogLevel.Information, "board: {Note}")]
    public static partial void BoardNote(ILogger logger, string note);

    [LoggerMessage(2001, LogLevel.Information, "bootstrapped cluster {ClusterId} with this node as leader")]
    public static partial void Bootstrapped(ILogger logger, string clusterId);

    [LoggerMessage(2002, LogLevel.Information, "joined the cluster through {Peer}; leader is {Leader}")]
    public static partial void Joined(ILogger logger, string peer, string leader);

    [LoggerMessage(2003, LogLevel.Information, "added member {NodeId} ({ClusterEndPoint})")]
    public static partial void MemberAdded(ILogger logger, string nodeId, string clusterEndPoint);

    [LoggerMessage(2004, LogLevel.Warning, "join request from {NodeId} failed: {Reason}{Repeats}")]
    public static partial void JoinRefused(ILogger logger, string nodeId, string reason, string repeats);

    [LoggerMessage(2005, LogLevel.Information, "leader is now {Leader}")]
    public static partial void LeaderChanged(ILogger logger, string leader);

    [LoggerMessage(2007, LogLevel.Information, "discovering cluster '{ClusterName}' over mDNS: {ExpectedNodes} boards expected")]
    public static partial void Discovering(ILogger logger, string clusterName, int expectedNodes);

    [LoggerMessage(2008, LogLevel.Information, "discovery: {Reason}")]
    public static partial void DiscoveryWaiting(ILogger logger, string reason);

    [LoggerMessage(2009, LogLevel.Information, "discovery: voted for {Vote} to bootstrap the cluster (final)")]
    public static partial void DiscoveryVoted(ILogger logger, string vote);

    [LoggerMessage(2010, LogLevel.Information, "discovery: this node bootstraps cluster '{ClusterName}'")]
    public static partial void DiscoveryBootstraps(ILogger logger, string clusterName);

    [LoggerMessage(2011, LogLevel.Information, "discovery: joining cluster '{ClusterName}' through {Members}")]
    public static partial void DiscoveryJoins(ILogger logger, string clusterName, string members);

    [LoggerMessage(2012, LogLevel.Warning, "{Message}")]
    public static partial void MdnsWarning(ILogger logger, string message);

    [LoggerMessage(2013, LogLevel.Warning, "o3storage.txt sets no join_token: any board on this network with a default card can join cluster '{ClusterName}'")]
    public static partial void OpenJoinToken(ILogger logger, string clusterName);

    [LoggerMessage(2006, LogLevel.Debug, "join attempt through {Peer} failed: {Reason}")]
    public static partial void JoinAttemptFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(3001, LogLevel.Warning, "{Device}: the file system does not support O_DIRECT; using buffered IO with O_DSYNC (data stays durable, but passes through the page cache); --require-direct-io refuses this")]
    public static partial void BufferedIo(ILogger logger, string device);

    [LoggerMessage(3002, LogLevel.Information, "storage {Device}: {Blobs} blobs, {UsedBytes} of {CapacityBytes} bytes in use, opened in {ElapsedMs} ms")]
    public static partial void StorageOpened(ILogger logger, string device, long blobs, long usedBytes, long capacityBytes, long elapsedMs);

    [LoggerMessage(2020, LogLevel.Critical, "RAFT LOG DAMAGED: {Detail}. The disk lost or corrupted entries it had reported as written (a card that ignores flushes, or a torn page). The log was moved to {MovedTo}; this node grants no vote and stays out of elections until it has caught up from a leader")]
    public static partial void RaftLogDamaged(ILogger logger, string detail, string movedTo);

    [LoggerMessage(2021, LogLevel.Warning, "raft log rebuilt from the leader up to index {Index}: this node votes again (in later terms) and may lead")]
    public static partial void RaftLogRecovered(ILogger logger, long index);

    [LoggerMessage(2022, LogLevel.Warning, "raft log without checksums (created before they existed): damage to it cannot be detected; wipe --data and rejoin the node to get them")]
    public static partial void RaftLogUnchecked(ILogger logger);

    [LoggerMessage(5012, LogLevel.Warning, "scrub pass over {Blobs} blobs found {Bad} missing or damaged on this node; repair rewrites them from other replicas")]
    public static partial void ScrubPassFoundBad(ILogger logger, int blobs, int bad);

    [LoggerMessage(5014, LogLevel.Warning, "could not store blob {Blob} of {Bucket}/{Key}, carried in the Raft log: {Problem}; this replica lacks it until the scrub finds it and repair rewrites it")]
    public static partial void InlineBlobNotStored(ILogger logger, string blob, string bucket, string key, string problem);

    [LoggerMessage(5013, LogLevel.Error, "scrub pass failed: {Problem}; the next pass starts on schedule")]
    public static partial void ScrubFailed(ILogger logger, string problem);

    [LoggerMessage(3003, LogLevel.Warning, "storage {Device}: {Records} damaged records skipped; run `o3storage check` with the node stopped")]
    public static partial void StorageDamaged(ILogger logger, string device, int records);

    [LoggerMessage(3004, LogLevel.Debug, "background compaction freed a segment ({CopiedBytes} bytes copied in its last step)")]
    public static partial void SegmentCompacted(ILogger logger, long copiedBytes);

    [LoggerMessage(3005, LogLevel.Error, "background compaction step failed; retrying later")]
    public static partial void CompactionFailed(ILogger logger, Exception exception);

    [LoggerMessage(4001, LogLevel.Warning, "AUTHENTICATION IS OFF: no key file at {Path}; anyone who reaches {Endpoint} may read and write. Create it (role:key lines, chmod 600) or pass --api-keys")]
    public static partial void AuthenticationOff(ILogger logger, string path, string endpoint);

    [LoggerMessage(4002, LogLevel.Information, "authentication on: {Keys} keys from {Path}")]
    public static partial void AuthenticationOn(ILogger logger, int keys, string path);

    [LoggerMessage(5001, LogLevel.Warning, "replica {Node} could not serve blob {Blob} of {Bucket}/{Key}: {Problem}; read from another replica, marked for repair")]
    public static partial void BadReplica(ILogger logger, string node, string blob, string bucket, string key, string problem);

    [LoggerMessage(5002, LogLevel.Warning, "{Bucket}/{Key} stored on {Stored} of {Wanted} replicas ({Replicas}): under-replicated until repair")]
    public static partial void UnderReplicated(ILogger logger, string bucket, string key, int stored, int wanted, string replicas);

    [LoggerMessage(5003, LogLevel.Information, "collected {Blobs} garbage blobs ({Bytes} bytes) no committed object refers to")]
    public static partial void GarbageCollected(ILogger logger, int blobs, long bytes);

    [LoggerMessage(5004, LogLevel.Error, "garbage collection round failed; retrying next round")]
    public static partial void GarbageCollectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(5005, LogLevel.Information, "repaired blob {Blob} of {Bucket}/{Key} on {Node} from another replica")]
    public static partial void ReplicaHealed(ILogger logger, string blob, string bucket, string key, string node);

    [LoggerMessage(5007, LogLevel.Warning, "repair of {Bucket}/{Key} failed: {Problem}; retrying in a later round")]
    public static partial void RepairFailed(ILogger logger, string bucket, string key, string problem);

    [LoggerMessage(5011, LogLevel.Information, "garbage collection deferred: {Blobs} blobs look unreferenced, but no leader confirmed this node's metadata ({Problem})")]
    public static partial void GarbageCollectionDeferred(ILogger logger, int blobs, string problem);

    [LoggerMessage(5009, LogLevel.Debug, "{Reason}: moved {Bucket}/{Key} from {From} to {To}")]
    public static partial void ReplicasMoved(ILogger logger, string reason, string bucket, string key, string from, string to);

    /// <summary>With the exception, so a failure no one expected (a NullReferenceException was seen once, at a restart with a million objects) says where.</summary>
    [LoggerMessage(5010, LogLevel.Warning, "placement round failed: {Problem}; retrying")]
    public static partial void PlacementRoundFailed(ILogger logger, string problem, Exception exception);

    [LoggerMessage(2014, LogLevel.Information, "removed member {NodeId}: {Reason}")]
    public static partial void MemberRemoved(ILogger logger, string nodeId, string reason);

    [LoggerMessage(2015, LogLevel.Warning, "could not remove member {NodeId}: {Problem}; retrying")]
    public static partial void RemovalFailed(ILogger logger, string nodeId, string problem);

    [LoggerMessage(2016, LogLevel.Information, "{NodeId} (the leader) is drained or being removed: handing leadership over so a successor removes it")]
    public static partial void HandingOverToBeRemoved(ILogger logger, string nodeId);

    [LoggerMessage(2017, LogLevel.Warning, "this node was removed from the cluster: {Reason}; it no longer serves")]
    public static partial void RemovedFromCluster(ILogger logger, string reason);

    [LoggerMessage(2018, LogLevel.Information, "member {NodeId} is draining: its replicas move to the other members, then it is removed")]
    public static partial void MemberDraining(ILogger logger, string nodeId);

    [LoggerMessage(2019, LogLevel.Information, "maintenance mode {State}{Reason}")]
    public static partial void MaintenanceChanged(ILogger logger, string state, string reason);

#if O3STORAGE_NEXT_LEVEL_TEST
    [LoggerMessage(9001, LogLevel.Warning, "test record of metadata level 6 held back: the cluster is at level {Level}")]
    public static partial void TestNoteGated(ILogger logger, int level);

    [LoggerMessage(9002, LogLevel.Warning, "test record of metadata level 6 committed at index {Index}")]
    public static partial void TestNoteCommitted(ILogger logger, long index);

#endif
    [LoggerMessage(2034, LogLevel.Information, "fetching the metadata snapshot the leader named (index {Index} or later) from {Source}")]
    public static partial void SnapshotFetching(ILogger logger, long index, string source);

    [LoggerMessage(2035, LogLevel.Information, "fetched the metadata snapshot (index {Index} or later) from {Source}: {MiB} MiB in {Seconds} s")]
    public static partial void SnapshotFetched(ILogger logger, long index, string source, double miB, double seconds);

    [LoggerMessage(2037, LogLevel.Information, "the fetched metadata snapshot is this node's state now, as of index {Index} (received and read in {Decoding} s), then the {HeldBack} entries committed meanwhile in {Applying} s (those it holds already skipped)")]
    public static partial void SnapshotInstalled(ILogger logger, long index, double decoding, long heldBack, double applying);

    [LoggerMessage(2036, LogLevel.Warning, "could not fetch the metadata snapshot (index {Index} or later) from {Source}: {Reason}")]
    public static partial void SnapshotFetchFailed(ILogger logger, long index, string source, string reason);

    [LoggerMessage(2033, LogLevel.Information, "cluster metadata level {Level} in force from index {Index}: every member reads it")]
    public static partial void ClusterLevelRaised(ILogger logger, int level, long index);

    [LoggerMessage(2030, LogLevel.Information, "snapshot {Name} created at index {Index}: {Objects} objects, {Bytes} bytes")]
    public static partial void SnapshotCreated(ILogger logger, string name, long index, long objects, long bytes);

    [LoggerMessage(2031, LogLevel.Information, "snapshot {Name} deleted: {PinnedBytes} bytes it pinned are released")]
    public static partial void SnapshotDeleted(ILogger logger, string name, long pinnedBytes);

    [LoggerMessage(2032, LogLevel.Warning, "snapshot {Name} (index {SnapshotIndex}) restored at index {Index}: the namespace is back to its {Objects} objects")]
    public static partial void SnapshotRestored(ILogger logger, string name, long snapshotIndex, long index, long objects);

    [LoggerMessage(4003, LogLevel.Warning, "admin calls (/admin/*) are open to anyone who can reach {Endpoint}: no key file; create api-keys.txt with an admin key to require it")]
    public static partial void AdminOpen(ILogger logger, string endpoint);

    [LoggerMessage(4004, LogLevel.Warning, "PEER TLS IS OFF: no certificates in {Directory}; anyone who reaches {ClusterEndpoint} can send Raft messages. Put the guide's ca-cert.pem, node-N-cert.pem and node-N-key.pem there (docs/security.md) or pass --certs")]
    public static partial void PeerTlsOff(ILogger logger, string directory, string clusterEndpoint);

    [LoggerMessage(4005, LogLevel.Information, "mutual TLS between nodes on {ClusterEndpoint}: this node presents {Certificate} ({File}); peers must present a certificate of CA {Authority}")]
    public static partial void PeerTlsOn(ILogger logger, string clusterEndpoint, string certificate, string file, string authority);

    [LoggerMessage(4006, LogLevel.Warning, "refused a connection {Direction}: {Reason}{Repeats}")]
    public static partial void PeerRefused(ILogger logger, string direction, string reason, string repeats);

    [LoggerMessage(4007, LogLevel.Warning, "certificates: {Warning}")]
    public static partial void CertificateWarning(ILogger logger, string warning);

    [LoggerMessage(4008, LogLevel.Information, "enrolled {NodeId}: it proved the join token and was given the cluster CA")]
    public static partial void Enrolled(ILogger logger, string nodeId);

    [LoggerMessage(4009, LogLevel.Information, "mutual TLS between nodes with this cluster's own CA ({Authority}, in {Directory}); a joining node proves the join token to get it")]
    public static partial void ClusterAuthorityInUse(ILogger logger, string authority, string directory);

    [LoggerMessage(4010, LogLevel.Warning, "JOIN TOKEN: nodes joining this cluster with --peers must prove its join token; it is in {File} (readable by this node's user only). Copy it to /opt/o3storage/join-token on each node that joins (or pass --join-token-file) before starting it")]
    public static partial void JoinTokenMade(ILogger logger, string file);

    [LoggerMessage(4012, LogLevel.Information, "{Path} changed: {Keys} keys in it now")]
    public static partial void KeysReloaded(ILogger logger, int keys, string path);

    [LoggerMessage(4013, LogLevel.Warning, "{Path} changed but cannot be used; the keys read before stay in force: {Reason}")]
    public static partial void KeysFileRefused(ILogger logger, string path, string reason);

    [LoggerMessage(4014, LogLevel.Information, "shared this node's api-keys.txt with the cluster: its {Keys} keys are honoured on every node")]
    public static partial void KeysShared(ILogger logger, int keys);

    [LoggerMessage(4015, LogLevel.Warning, "could not share this node's api-keys.txt with the cluster yet (trying again every few seconds): {Reason}")]
    public static partial void KeysNotShared(ILogger logger, string reason);

    [LoggerMessage(4016, LogLevel.Warning, "CLOSED CLUSTER: every S3 and admin call needs a key. This cluster's first admin key (access key id {AccessKeyId}) is in {Path} on every member, readable by the node's user only: read it with `sudo cat {Path}`, add your own keys to api-keys.txt, then retire it (docs/auth.md)")]
    public static partial void FirstAdminKeyMade(ILogger logger, string accessKeyId, string path);

    [LoggerMessage(4017, LogLevel.Information, "the cluster holds its first admin key (access key id {AccessKeyId}); every member keeps a copy in {Path}")]
    public static partial void FirstAdminKeyShared(ILogger logger, string accessKeyId, string path);

    [LoggerMessage(4018, LogLevel.Information, "the first admin key was retired; this node's copy {Path} is deleted")]
    public static partial void FirstAdminKeyRetired(ILogger logger, string path);

    [LoggerMessage(4011, LogLevel.Warning, "{Peer} has no cluster CA to give ({Reason}); this node joins without one, as the cluster's members run")]
    public static partial void EnrolmentUnavailable(ILogger logger, string peer, string reason);
}
