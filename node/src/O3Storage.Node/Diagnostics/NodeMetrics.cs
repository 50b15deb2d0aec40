// Owns: the node's latency and throughput metrics for /metrics, in prometheus-net instruments on a
// registry of this node's own (never the process-wide default: no runtime or process collectors, and
// two nodes in one test process keep apart). What /health reports stays in MetricsText as gauges; this
// holds what /health cannot: histograms of how long things take, and byte counters. Names follow
// Prometheus conventions (o3storage_ prefix, base units in the name, _total on counters).
using System.Diagnostics;
using O3Storage.Cluster.Lifecycle;
using Prometheus;

namespace O3Storage.Node.Diagnostics;

internal sealed class NodeMetrics
{
    /// <summary>From half a millisecond (a cached read) to ten seconds (a 64 MiB object on a slow card).</summary>
    private static readonly double[] s_latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>fsync-bound work (WAL flush, blob writes): from 100 µs (a RAM disk) to 2.5 s (an SD card under load).</summary>
    private static readonly double[] s_flushBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly Histogram _s3Duration;
    private readonly Counter _s3Requests;
    private readonly Histogram _raftCommit;
    private readonly Histogram _walFlush;
    private readonly Histogram _blobWrite;
    private readonly Histogram _blobRead;
    private readonly Counter _blobWrittenBytes;
    private readonly Counter _blobReadBytes;
    private readonly Gauge _repairQueue;
    private readonly Gauge _rebalanceRunning;
    private readonly Gauge _rebalanceObjects;
    private readonly Gauge _rebalanceBytes;
    private readonly Gauge _misplaced;

    public NodeMetrics()
    {
        MetricFactory metrics = Metrics.WithCustomRegistry(Registry);
        _s3Duration = metrics.CreateHistogram("o3storage_s3_request_duration_seconds", "S3 requests this node answered, by operation: time from the request to the end of the answer.",
            new HistogramConfiguration { LabelNames = ["operation"], Buckets = s_latencyBuckets });
        _s3Requests = metrics.CreateCounter("o3storage_s3_requests_total", "S3 requests this node answered, by operation and HTTP status code.",
            new CounterConfiguration { LabelNames = ["operation", "code"] });
        _raftCommit = metrics.CreateHistogram("o3storage_raft_commit_duration_seconds", "Metadata commands this node proposed: time from the proposal to its commit (batched; a follower's go through the leader).",
            new HistogramConfiguration { Buckets = s_latencyBuckets });
        _walFlush = metrics.CreateHistogram("o3storage_raft_wal_flush_duration_seconds", "Raft write-ahead log flushes to disk on this node (fsync).",
            new HistogramConfiguration { Buckets = s_flushBuckets });
        _blobWrite = metrics.CreateHistogram("o3storage_blob_write_duration_seconds", "Blobs written to this node's store: time until durable (queue, group commit, O_DSYNC write).",
            new HistogramConfiguration { Buckets = s_flushBuckets });
        _blobRead = metrics.CreateHistogram("o3storage_blob_read_duration_seconds", "Blobs read from this node's store, for clients and for other nodes, checksum verified.",
            new HistogramConfiguration { Buckets = s_flushBuckets });
        _blobWrittenBytes = metrics.CreateCounter("o3storage_blob_written_bytes_total", "Bytes of blobs written durably to this node's store.");
        _blobReadBytes = metrics.CreateCounter("o3storage_blob_read_bytes_total", "Bytes of blobs read from this node's store.");
        _repairQueue = metrics.CreateGauge("o3storage_repair_queue_blobs", "Bad replicas reads reported that wait for the repair loop to rewrite them.");
        _rebalanceRunning = metrics.CreateGauge("o3storage_rebalance_running", "1 while a rebalance pass runs (on the leader, which runs them).");
        _rebalanceObjects = metrics.CreateGauge("o3storage_rebalance_objects", "Objects of the current or last rebalance pass: moved, and the total to move.", new GaugeConfiguration { LabelNames = ["progress"] });
        _rebalanceBytes = metrics.CreateGauge("o3storage_rebalance_bytes", "Bytes of the current or last rebalance pass: moved, and the total to move.", new GaugeConfiguration { LabelNames = ["progress"] });
        _misplaced = metrics.CreateGauge("o3storage_misplaced_objects", "Objects not on the members placement wants (the replication queue of the next rebalance pass).");
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void S3Request(string operation, int statusCode, long startedTimestamp)
    {
        _s3Duration.WithLabels(operation).Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        _s3Requests.WithLabels(operation, statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
    }

    public void RaftCommitted(long startedTimestamp) => _raftCommit.Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);

    public void WalFlushed(TimeSpan elapsed) => _walFlush.Observe(elapsed.TotalSeconds);

    public void BlobWritten(long bytes, long startedTimestamp)
    {
        _blobWrite.Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        _blobWrittenBytes.Inc(bytes);
    }

    public void BlobRead(long bytes, long startedTimestamp)
    {
        _blobRead.Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);
        _blobReadBytes.Inc(bytes);
    }

    /// <summary>The gauges that are read, not counted: set just before each scrape.</summary>
    public void SetQueues(int repairPending, RebalanceStatus rebalance)
    {
        _repairQueue.Set(repairPending);
        _rebalanceRunning.Set(rebalance.State == "running" ? 1 : 0);
        _rebalanceObjects.WithLabels("moved").Set(rebalance.ObjectsMoved);
        _rebalanceObjects.WithLabels("total").Set(rebalance.ObjectsTotal);
        _rebalanceBytes.WithLabels("moved").Set(rebalance.BytesMoved);
        _rebalanceBytes.WithLabels("total").Set(rebalance.BytesTotal);
        _misplaced.Set(rebalance.MisplacedObjects);
    }

    /// <summary>Writes every metric in the Prometheus text format (version 0.0.4).</summary>
    public Task ExportAsync(Stream destination, CancellationToken token) => Registry.CollectAndExportAsTextAsync(destination, token);
}
