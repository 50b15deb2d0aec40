using System.Diagnostics;
using System.Text;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Node.Api;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Tests;

public sealed class NodeMetricsTests
{
    private static async Task<string[]> ExportAsync(NodeMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.ExportAsync(stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task S3Request_CountedByOperationAndCode_TimedByOperation()
    {
        var metrics = new NodeMetrics();
        long started = Stopwatch.GetTimestamp() - (Stopwatch.Frequency / 10); // 100 ms ago
        metrics.S3Request("PutObject", 200, started);
        metrics.S3Request("PutObject", 503, started);
        metrics.S3Request("GetObject", 200, started);
        string[] lines = await ExportAsync(metrics);
        Assert.Contains("o3storage_s3_requests_total{operation=\"PutObject\",code=\"200\"} 1", lines);
        Assert.Contains("o3storage_s3_requests_total{operation=\"PutObject\",code=\"503\"} 1", lines);
        Assert.Contains("o3storage_s3_request_duration_seconds_count{operation=\"PutObject\"} 2", lines);
        // 100 ms (and a little) lands above the 50 ms bucket and within the 250 ms one.
        Assert.Contains("o3storage_s3_request_duration_seconds_bucket{operation=\"GetObject\",le=\"0.05\"} 0", lines);
        Assert.Contains("o3storage_s3_request_duration_seconds_bucket{operation=\"GetObject\",le=\"0.25\"} 1", lines);
        Assert.Contains("# TYPE o3storage_s3_request_duration_seconds histogram", lines);
    }

    [Fact]
    public async Task BlobAndRaftWork_HistogramsAndByteCounters()
    {
        var metrics = new NodeMetrics();
        long now = Stopwatch.GetTimestamp();
        metrics.BlobWritten(4096, now);
        metrics.BlobWritten(1 << 20, now);
        metrics.BlobRead(100, now);
        metrics.RaftCommitted(now);
        metrics.WalFlushed(TimeSpan.FromMilliseconds(3));
        string[] lines = await ExportAsync(metrics);
        Assert.Contains("o3storage_blob_written_bytes_total 1052672", lines);
        Assert.Contains("o3storage_blob_read_bytes_total 100", lines);
        Assert.Contains("o3storage_blob_write_duration_seconds_count 2", lines);
        Assert.Contains("o3storage_raft_commit_duration_seconds_count 1", lines);
        Assert.Contains("o3storage_raft_wal_flush_duration_seconds_bucket{le=\"0.0025\"} 0", lines);
        Assert.Contains("o3storage_raft_wal_flush_duration_seconds_bucket{le=\"0.005\"} 1", lines);
    }

    [Fact]
    public async Task Queues_SetBeforeEachScrape()
    {
        var metrics = new NodeMetrics();
        int pending = 0;
        metrics.Registry.AddBeforeCollectCallback(() => metrics.SetQueues(pending, new RebalanceStatus(
            "running", "even_distribution", "admin", "n1", null, null, 40, 12, 4096, 1024, 30, 0, 0, null, 2, 28, [], null)));
        pending = 7;
        string[] lines = await ExportAsync(metrics);
        Assert.Contains("o3storage_repair_queue_blobs 7", lines);
        Assert.Contains("o3storage_rebalance_running 1", lines);
        Assert.Contains("o3storage_rebalance_objects{progress=\"moved\"} 12", lines);
        Assert.Contains("o3storage_rebalance_bytes{progress=\"total\"} 4096", lines);
        Assert.Contains("o3storage_misplaced_objects 28", lines);
    }

    [Fact]
    public void MetricsText_UnderReplicatedObjects_IsAGauge()
    {
        var report = new HealthReport("ok", "n1", Guid.Empty, "1", 1, new ClusterHealth("c", "leader", "n1", 1, 1, 1, 1, true, true, 3, "strong", 1, []),
            new StorageHealth(1, 1, 1, 1, null, false) { UnderReplicatedObjects = 5 }, AuthHealth.Off);
        Assert.Contains("o3storage_storage_under_replicated_objects 5", MetricsText.Write(report).Split('\n'));
    }
}
