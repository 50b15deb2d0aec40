// Owns: the object data path's policy on top of the writer and reader: which nodes hold an object
// (weighted rendezvous over the members; every member weighs 1 until members report capacity), how many
// replicas a write wants and needs, the order replicas are read in, and where bad replicas are reported.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Placement;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Data;

/// <summary>Where an object goes: every member, best first; how many replicas to store; how many must hold it for the write to count.</summary>
internal sealed record PlacementPlan(IReadOnlyList<string> Ranked, int Wanted, int Minimum);

internal sealed class DataPath
{
    /// <summary>Bad-replica reports kept for repair; beyond this many, new ones are dropped (reads report again).</summary>
    public const int ReportsMax = 10_000;

    private readonly string _selfNodeId;
    private readonly ILogger _logger;
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Bucket, string Key, BadReplica Bad)> _reports = new();

    public DataPath(string selfNodeId, IBlobReplicas replicas, ILogger logger)
    {
        _selfNodeId = selfNodeId;
        _logger = logger;
        Writer = new ObjectWriter(replicas);
        Reader = new ObjectReader(replicas);
        Repairer = new Repairer(replicas, Reader);
    }

    public ObjectWriter Writer { get; }

    public ObjectReader Reader { get; }

    public Repairer Repairer { get; }

    /// <summary>
    /// The placement of <paramref name="key"/> in <paramref name="bucket"/>: replication_factor replicas,
    /// capped at the member count; a write needs two of them (one when only one is wanted), so an
    /// acknowledged object survives the loss of any one disk even while a replica holder is down.
    /// </summary>
    public static PlacementPlan Place(MetadataState state, string bucket, string key)
    {
        var candidates = state.Members.Keys.Select(id => new PlacementCandidate(id, 1.0)).ToList();
        IReadOnlyList<string> ranked = candidates.Count == 0 ? [] : RendezvousPlacement.Choose(PlacementKey(bucket, key), candidates, candidates.Count);
        int wanted = Math.Min(state.Settings?.ReplicationFactor ?? ClusterSettings.DefaultReplicationFactor, ranked.Count);
        return new PlacementPlan(ranked, wanted, Math.Min(2, wanted));
    }

    /// <summary>The bytes placement hashes: bucket, a NUL (never in a bucket name), key.</summary>
    public static byte[] PlacementKey(string bucket, string key) => System.Text.Encoding.UTF8.GetBytes($"{bucket}\0{key}");

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
