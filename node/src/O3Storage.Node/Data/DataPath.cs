// Owns: the object data path's policy on top of the writer and reader: which nodes hold an object
// (weighted rendezvous over the members; every member weighs 1 until members report capacity), how many
// replicas a write wants and needs, the order replicas are read in, and where bad replicas are reported.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Placement;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Data;

internal sealed class DataPath
{
    /// <summary>Bad-replica reports kept for repair; beyond this many, new ones are dropped (reads report again).</summary>
    public const int ReportsMax = 10_000;

    /// <summary>
    /// The largest object a PutObject carries in its Raft entry instead of sending it to each replica first
    /// (PutInline): small objects are where that round costs the most, and the log's size per snapshot stays
    /// bounded (MetadataStateMachine.SnapshotIntervalBytes).
    /// </summary>
    public const long InlineBytesMax = 16 * 1024;

    private readonly string _selfNodeId;
    private readonly Func<string, bool> _placeable;
    private readonly Func<string, bool> _reachable;
    private readonly TimeSpan _commitDeadline;
    private readonly ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Bucket, string Key, BadReplica Bad)> _reports = new();

    /// <param name="placeable">Whether a member may take new replicas now (not down past the grace).</param>
    /// <param name="reachable">Whether a member answers now: a small object goes in the Raft entry only when every replica it names does.</param>
    /// <param name="commit">Commits a metadata command (the proposer): how a move records its new replica set.</param>
    public DataPath(string selfNodeId, IBlobReplicas replicas, Func<string, bool> placeable, Func<string, bool> reachable, Func<MetadataCommand, CancellationToken, Task> commit, TimeSpan commitDeadline, ILogger logger)
    {
        _selfNodeId = selfNodeId;
        _placeable = placeable;
        _reachable = reachable;
        _commitDeadline = commitDeadline;
        _logger = logger;
        Writer = new ObjectWriter(replicas);
        Reader = new ObjectReader(replicas);
        Repairer = new Repairer(replicas, Reader);
        Mover = new ReplicaMover(replicas, Reader, commit, commitDeadline);
    }

    public ObjectWriter Writer { get; }

    public ObjectReader Reader { get; }

    public Repairer Repairer { get; }

    /// <summary>The one way an object's replicas move to other nodes: repair, drain and rebalance all use it.</summary>
    public ReplicaMover Mover { get; }

    /// <summary>
    /// The placement of <paramref name="key"/> for a write: replication_factor of the active members,
    /// skipping any down for longer than the dead-node grace (a write would only wait on it and then
    /// take the next one), capped at the member count; a write needs two replicas (see ObjectPlacement).
    /// </summary>
    public PlacementPlan Place(MetadataState state, string bucket, string key) => ObjectPlacement.Place(state, bucket, key, _placeable);

    /// <summary>
    /// The replicas to read from: this node first when it holds one (no network), then the other members
    /// in placement order. A replica on a node that is not a member (an earlier incarnation's, or across a
    /// split) is never asked: the clusters do not talk to each other.
    /// </summary>
    public IReadOnlyList<string> ReadOrder(MetadataState state, ObjectVersion version) =>
        version.Replicas.Contains(_selfNodeId)
            ? [_selfNodeId, .. version.Replicas.Where(r => r != _selfNodeId && state.Members.ContainsKey(r))]
            : [.. version.Replicas.Where(state.Members.ContainsKey)];

    /// <summary>A replica failed to serve a blob it should hold: logged, and queued for the repair loop to rewrite.</summary>
    public void Report(string bucket, string key, BadReplica bad)
    {
        NodeLog.BadReplica(_logger, bad.NodeId, new Storage.BlobId(bad.Blob.BlobId).ToString(), bucket, key, bad.Problem);
        if (_reports.Count < ReportsMax)
        {
            _reports.Enqueue((bucket, key, bad));
        }
    }

    public bool TryTakeReport(out (string Bucket, string Key, BadReplica Bad) report) => _reports.TryDequeue(out report);

    /// <summary>Reports waiting for the repair loop.</summary>
    public int ReportsPending => _reports.Count;

    /// <summary>
    /// The one way an object's (or a part's) bytes are written: placed on <paramref name="key"/>'s
    /// placement, streamed to its replicas, then checked against the digests the client sent and against
    /// the commit deadline (half the orphan grace: later, the holders' collectors may already count the
    /// blobs as orphans). Whatever fails, nothing is left stored (best effort; the collector takes the
    /// rest). The caller commits the metadata that names the result.
    /// </summary>
    /// <exception cref="DigestMismatchException">The bytes do not match <paramref name="expectedMd5"/> or <paramref name="expectedSha256"/>.</exception>
    /// <exception cref="CommitDeadlineException">The body took longer than the commit deadline to arrive.</exception>
    /// <exception cref="ReplicationException">Too few replicas stored it.</exception>
    /// <exception cref="IncompleteBodyException">The body was shorter or longer than <paramref name="lengthBytes"/>.</exception>
    /// <param name="mayInline">The caller commits <see cref="StoredObject.Command"/>, so a small object may travel in the entry (<see cref="InlineBytesMax"/>).</param>
    public async Task<StoredObject> StoreAsync(MetadataState state, string bucket, string key, Stream body, long lengthBytes, byte[]? expectedMd5, byte[]? expectedSha256, CancellationToken token, bool mayInline = false)
    {
        PlacementPlan plan = Place(state, bucket, key);
        long started = Stopwatch.GetTimestamp();
        StoredObject stored = mayInline && Inlinable(state, plan, lengthBytes)
            ? await ObjectWriter.ReadInlineAsync(body, lengthBytes, [.. plan.Ranked.Take(plan.Wanted)], expectedSha256 is not null, token).ConfigureAwait(false)
            : await Writer.WriteAsync(body, lengthBytes, plan.Ranked, plan.Wanted, plan.Minimum, expectedSha256 is not null, token).ConfigureAwait(false);
        Exception? refused = Stopwatch.GetElapsedTime(started) > _commitDeadline ? new CommitDeadlineException(_commitDeadline)
            : expectedMd5 is not null && !expectedMd5.AsSpan().SequenceEqual(stored.Md5) ? new DigestMismatchException("Content-MD5", expectedMd5, stored.Md5)
            : expectedSha256 is not null && !expectedSha256.AsSpan().SequenceEqual(stored.Sha256) ? new DigestMismatchException("x-amz-content-sha256", expectedSha256, stored.Sha256!)
            : null;
        if (refused is not null)
        {
            if (stored.Inline is null)
            {
                _ = Writer.DiscardAsync(stored);
            }

            throw refused;
        }

        if (stored.Replicas.Length < plan.Wanted && stored.Blobs.Length > 0)
        {
            NodeLog.UnderReplicated(_logger, bucket, key, stored.Replicas.Length, plan.Wanted, string.Join(",", stored.Replicas));
        }

        return stored;
    }

    /// <summary>
    /// Whether a write of <paramref name="lengthBytes"/> may travel in its Raft entry: small, not empty, a
    /// cluster that reads PutInline, and every replica it would name answering now (one that is down would
    /// apply the entry only when it is back: the blob path substitutes another instead).
    /// </summary>
    private bool Inlinable(MetadataState state, PlacementPlan plan, long lengthBytes) =>
        lengthBytes is > 0 and <= InlineBytesMax
        && state.ClusterLevel >= MetadataCodec.PutInlineLevel
        && plan.Ranked.Count >= plan.Wanted
        && plan.Ranked.Take(plan.Wanted).All(_reachable);
}

/// <summary>The stored bytes do not match a digest the client sent (<see cref="Digest"/> names the header); nothing was kept.</summary>
internal sealed class DigestMismatchException(string digest, byte[] expected, byte[] actual) : Exception($"the {digest} sent does not match the body's")
{
    public string Digest { get; } = digest;

    public byte[] Expected { get; } = expected;

    public byte[] Actual { get; } = actual;
}

/// <summary>The body took longer than the commit deadline (half of --orphan-grace) to arrive; nothing was kept.</summary>
internal sealed class CommitDeadlineException(TimeSpan deadline) : Exception($"the body took longer than {deadline.TotalSeconds:0.#} s (half of --orphan-grace) to arrive; use a multipart upload for slow links");
