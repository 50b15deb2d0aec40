// Owns: GET /metrics, the Prometheus text exposition format (version 0.0.4) of what /health reports:
// one gauge per number, labels only where a value is a name. Pure: the report in, text out.
using System.Globalization;
using System.Text;
using O3Storage.Cluster.Health;

namespace O3Storage.Node.Api;

internal static class MetricsText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(HealthReport report)
    {
        var text = new StringBuilder();
        Gauge(text, "o3storage_info", "Node identity and software version (always 1).", 1, ("node_id", report.NodeId), ("version", report.Version), ("board", report.Hardware?.Board ?? "none"));
        Gauge(text, "o3storage_up", "1 when the node serves reads and writes (health status ok or degraded).", report.Status is "ok" or "degraded" ? 1 : 0);
        Gauge(text, "o3storage_uptime_seconds", "Seconds since the node process started.", report.UptimeSeconds);
        Gauge(text, "o3storage_cluster_is_leader", "1 on the Raft leader.", report.Cluster.Role == "leader" ? 1 : 0);
        Gauge(text, "o3storage_cluster_term", "Current Raft term.", report.Cluster.Term);
        Gauge(text, "o3storage_cluster_active_nodes", "Members reachable from this node, itself included.", report.Cluster.ActiveNodes);
        Gauge(text, "o3storage_cluster_total_nodes", "Members of the cluster.", report.Cluster.TotalNodes);
        Gauge(text, "o3storage_cluster_has_quorum", "1 when a quorum of members is reachable.", report.Cluster.HasQuorum ? 1 : 0);
        Gauge(text, "o3storage_cluster_write_enabled", "1 when writes are accepted.", report.Cluster.WriteEnabled ? 1 : 0);
        Gauge(text, "o3storage_cluster_applied_index", "Last Raft log index applied to the metadata.", report.Cluster.AppliedIndex);
        Gauge(text, "o3storage_storage_objects", "Object versions this node holds a replica of.", report.Storage.TotalObjects);
        Gauge(text, "o3storage_storage_used_bytes", "Bytes of live blobs on this node's device.", report.Storage.UsedSpaceBytes);
        Gauge(text, "o3storage_storage_capacity_bytes", "Capacity of this node's blob store.", report.Storage.CapacityBytes);
        Gauge(text, "o3storage_storage_free_bytes", "Free bytes of this node's blob store.", report.Storage.FreeSpaceBytes);
        Gauge(text, "o3storage_storage_under_replicated_objects", "Objects on fewer live members than the replication factor asks (cluster-wide, from this node's last survey).", report.Storage.UnderReplicatedObjects);
        Gauge(text, "o3storage_snapshots", "Named snapshots of the namespace, cluster-wide.", report.Storage.Snapshots.Count);
        Gauge(text, "o3storage_snapshot_pinned_bytes", "Bytes the snapshots keep that the namespace no longer refers to (each blob once, not per replica).", report.Storage.Snapshots.PinnedBytes);
        ScrubHealth scrub = report.Storage.Scrub;
        Counter(text, "o3storage_scrub_passes_total", "Scrub passes completed over every blob this node should hold.", scrub.Passes);
        Counter(text, "o3storage_scrub_checked_bytes_total", "Bytes the scrub read and verified.", scrub.CheckedBytes);
        Counter(text, "o3storage_scrub_bad_blobs_total", "Blobs the scrub found missing or damaged (handed to repair).", scrub.BadFound);
        Gauge(text, "o3storage_scrub_pass_progress", "Share of the current scrub pass done (0 to 1; 0 while idle).", scrub.PassProgress);
        if (report.Startup is { } startup)
        {
            Gauge(text, "o3storage_starting", "1 while the node does not serve yet (the label: discovering, joining or starting).", 1, ("phase", startup.Phase));
        }

        if (report.Hardware is { } hardware)
        {
            Gauge(text, "o3storage_led_pattern", "The status LED's current pattern (the label; always 1).", 1, ("pattern", hardware.Led), ("driver", hardware.LedDriver));
            if (hardware.TemperatureCelsius is { } celsius)
            {
                // Absent rather than 0 or NaN without a sensor: an alert on it must not fire on a laptop.
                Gauge(text, "o3storage_temperature_celsius", "Board temperature.", celsius, ("source", hardware.TemperatureSource));
            }

            Gauge(text, "o3storage_background_work_factor", "Share of the normal rate background work runs at (1 cool, down to 0.1 hot).", hardware.BackgroundWorkFactor);
        }

        return text.ToString();
    }

    private static void Counter(StringBuilder text, string name, string help, double value) => Metric(text, "counter", name, help, value, []);

    private static void Gauge(StringBuilder text, string name, string help, double value, params (string Name, string Value)[] labels) => Metric(text, "gauge", name, help, value, labels);

    private static void Metric(StringBuilder text, string type, string name, string help, double value, (string Name, string Value)[] labels)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        text.Append(name);
        if (labels.Length > 0)
        {
            text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                text.Append(i == 0 ? "" : ",").Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
