// Owns: how a rebalance pass reads: one line (rate, ETA) for logs and pipes, and the numbers behind the
// live progress bar. Pure: the leader's GET /admin/rebalance-status in, text out.
using System.Globalization;
using O3Storage.Ctl.Api;

namespace O3Storage.Ctl.Views;

public static class RebalanceView
{
    /// <summary>A pass still under way (the others: idle, done, failed).</summary>
    public static bool IsRunning(RebalanceAnswer status) => status.State == "running";

    /// <summary>Share of the pass done, 0 to 100: by bytes when the pass has any, else by objects.</summary>
    public static double Percent(RebalanceAnswer status) =>
        status.BytesTotal > 0 ? Math.Min(100, 100.0 * status.BytesMoved / status.BytesTotal)
        : status.ObjectsTotal > 0 ? Math.Min(100, 100.0 * status.ObjectsMoved / status.ObjectsTotal)
        : status.State is "done" ? 100 : status.Percent;

    /// <summary>"running: 12/40 objects, 3.0 MiB of 10.0 MiB, 1.2 MiB/s, about 6 s left".</summary>
    public static string Line(RebalanceAnswer status)
    {
        string state = status.State ?? "unknown";
        string moved = $"{status.ObjectsMoved}/{status.ObjectsTotal} objects, {StatusView.Bytes(status.BytesMoved)} of {StatusView.Bytes(status.BytesTotal)}";
        return state switch
        {
            "running" => $"running: {moved}, {Rate(status)}, {Eta(status.EtaSeconds)}",
            "done" => $"done: {moved}",
            "failed" => $"failed: {status.MisplacedObjects} objects still to move ({status.LastError})",
            "idle" => $"idle: nothing to move ({status.UnderReplicatedObjects} under-replicated, {status.MisplacedObjects} misplaced)",
            _ => $"{state}: {moved}",
        };
    }

    public static string Rate(RebalanceAnswer status) =>
        string.Create(CultureInfo.InvariantCulture, $"{StatusView.Bytes((long)status.RateBytesPerSecond)}/s ({status.RateObjectsPerSecond:0.#} objects/s)");

    public static string Eta(double? seconds) => seconds switch
    {
        null => "time left unknown",
        < 60 => string.Create(CultureInfo.InvariantCulture, $"about {seconds:0} s left"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"about {seconds / 60:0} min left"),
        _ => string.Create(CultureInfo.InvariantCulture, $"about {seconds / 3600:0.#} h left"),
    };
}
