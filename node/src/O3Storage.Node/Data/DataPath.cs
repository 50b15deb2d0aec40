// Owns: the object data path's policy on top of the writer and reader: which nodes hold an object
// (weighted rendezvous over the members; every member weighs 1 until members report capacity), how many
// replicas a write wants and needs, the order replicas are read in, and where bad replicas are reported.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Placement;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Data;

internal sealed class DataPath
{
    /// <summary>Bad-replica reports kept for repair; beyond this many, new ones are dropped (reads report again).</summary>
    public const int ReportsMax = 10_000;

    private readonly string _selfNodeId;
    private readonly Func<string, bool> _placeable;
    private readonly ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Bucket, string Key, BadReplica Bad)> _reports = new();

    /// <param name="placeable">Whether a member may take new replicas now (not down past the grace).</param>
    /// <param name="commit">Commits a metadata command (the proposer): how a move records its new replica set.</param>
    public DataPath(string selfNodeId, IBlobReplicas replicas, Func<string, bool> placeable, Func<MetadataCommand, CancellationToken, Task> commit, TimeSpan commitDeadline, ILogger logger)
    {
        _selfNodeId = selfNodeId;
        _placeable = placeable;
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

    /// <summary>The replicas to read from: this node first when it holds one (no network), then the others in placement order.</summary>
    public IReadOnlyList<string> ReadOrder(ObjectVersion version) =>
        version.Replicas.Contains(_selfNodeId) ? [_selfNodeId, .. version.Replicas.Where(r => r != _selfNodeId)] : version.Replicas;

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

    public void Stored(string bucket, string key, StoredObject stored, int wanted)
    {
        if (stored.Replicas.Length < wanted && stored.Blobs.Length > 0)
        {
            NodeLog.UnderReplicated(_logger, bucket, key, stored.Replicas.Length, wanted, string.Join(",", stored.Replicas));
        }
    }
}
