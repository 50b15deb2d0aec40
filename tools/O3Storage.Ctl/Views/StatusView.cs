// Owns: what `o3ctl status` makes of the members' /health reports: one row per member and the cluster's
// health in one line. Pure: reports in, a ClusterStatus out; the rendering is plain text and a table.
using System.Globalization;
using O3Storage.Ctl.Api;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace O3Storage.Ctl.Views;

public static class StatusView
{
    public const string Healthy = "healthy";
    public const string Degraded = "degraded";
    public const string Unavailable = "unavailable";

    /// <summary>
    /// The cluster as <paramref name="answering"/> lists its members, each row from that member's own
    /// report in <paramref name="reports"/> (null: it did not answer).
    /// </summary>
    public static ClusterStatus Compose(Health answering, IReadOnlyDictionary<string, Health?> reports)
    {
        ClusterPart cluster = answering.Cluster ?? new ClusterPart(null, null, null, 0, 1, 1, 1, false, false, 0, 1, null, null);
        IReadOnlyList<MemberPart> listed = cluster.Members is { Count: > 0 } members ? members
            : [new MemberPart(answering.NodeId ?? "this node", cluster.Role, true, "active", answering.Version, true)];
        MemberStatus[] rows = [.. listed.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => Row(m, reports.GetValueOrDefault(m.Id)))];
        int up = rows.Count(r => r.Reachable);
        var problems = new List<string>();
        if (rows.Where(r => !r.Reachable).Select(r => r.Id).ToArray() is { Length: > 0 } down)
        {
            problems.Add($"{string.Join(", ", down)} {(down.Length == 1 ? "does" : "do")} not answer");
        }

        problems.AddRange(rows.Where(r => r.State == "draining").Select(r => $"{r.Id} is draining"));
        problems.AddRange(rows.Where(r => r.Reachable && r.Status is not ("ok" or null)).Select(r => $"{r.Id} reports {r.Status}"));
        if (!cluster.HasQuorum)
        {
            problems.Add("no quorum");
        }
        else if (cluster.Leader is null)
        {
            problems.Add("no leader");
        }

        if (cluster.Maintenance is { Enabled: true } maintenance)
        {
            problems.Add($"maintenance mode ({maintenance.Reason})");
        }
        else if (!cluster.WriteEnabled && cluster.HasQuorum)
        {
            problems.Add("writes off");
        }

        string health = !cluster.HasQuorum || cluster.Leader is null ? Unavailable : problems.Count > 0 ? Degraded : Healthy;
        string summary = $"{health}: {up}/{rows.Length} members up, "
            + (cluster.Leader is { } leader ? $"leader {leader} (term {cluster.Term})" : "no leader")
            + $", rebalance {answering.Rebalance ?? "unknown"}"
            + (problems.Count > 0 ? "; " + string.Join("; ", problems) : string.Empty);
        return new ClusterStatus(health, summary, cluster.ClusterId, cluster.Leader, cluster.Term, up, rows.Length, cluster.HasQuorum,
            cluster.WriteEnabled, cluster.Maintenance, answering.Rebalance, rows);
    }

    private static MemberStatus Row(MemberPart listed, Health? own)
    {
        if (own is null)
        {
            return new MemberStatus(listed.Id, listed.Role ?? "unknown", listed.State is null or "active" ? "down" : listed.State, false, null,
                listed.Version, null, null, null, null, null, null);
        }

        return new MemberStatus(
            listed.Id, own.Cluster?.Role ?? listed.Role ?? "unknown", listed.State ?? "active", true, own.Status, own.Version ?? listed.Version,
            own.Storage?.TotalObjects, own.Storage?.UsedSpaceBytes, own.Storage?.CapacityBytes, own.Hardware?.Led, own.Hardware?.TemperatureCelsius,
            own.Storage?.Scrub is { State: "scrubbing" } scrub ? $"{scrub.PassProgress:P0}" : own.Storage?.Scrub?.State);
    }

    /// <summary>The table `o3ctl status` prints under the health line.</summary>
    public static Table Table(ClusterStatus status)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (string column in new[] { "MEMBER", "ROLE", "STATE", "VERSION", "OBJECTS", "USED", "CAPACITY", "LED", "TEMP" })
        {
            TableColumn added = new(column);
            if (column is "OBJECTS" or "USED" or "CAPACITY" or "TEMP")
            {
                added.RightAligned();
            }

            table.AddColumn(added);
        }

        foreach (MemberStatus row in status.Members)
        {
            string state = row.Reachable ? row.State : $"[red]{row.State}[/]";
            string role = row.Role == "leader" ? "[bold]leader[/]" : Markup.Escape(row.Role);
            table.AddRow(
                Markup.Escape(row.Id), role, state, Markup.Escape(ShortVersion(row.Version)),
                row.Objects?.ToString("N0", CultureInfo.InvariantCulture) ?? "-", Bytes(row.UsedBytes), Bytes(row.CapacityBytes),
                Markup.Escape(row.Led ?? "-"), row.TemperatureCelsius is { } celsius ? $"{celsius:0.0} °C" : "-");
        }

        return table;
    }

    /// <summary>The health line, coloured by health.</summary>
    public static IRenderable Line(ClusterStatus status) => new Markup(
        $"[{(status.Health == Healthy ? "green" : status.Health == Degraded ? "yellow" : "red")}]{Markup.Escape(status.Summary)}[/]");

    /// <summary>A version with its build metadata can be long: the table keeps its first 24 characters (--json has it whole).</summary>
    private static string ShortVersion(string? version) => version is null ? "-" : version.Length <= 24 ? version : version[..24];

    /// <summary>Bytes in IEC units, as numfmt --to=iec-i prints them in the guide's scripts.</summary>
    public static string Bytes(long? bytes)
    {
        if (bytes is not { } value)
        {
            return "-";
        }

        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double scaled = value;
        int unit = 0;
        while (scaled >= 1024 && unit < units.Length - 1)
        {
            scaled /= 1024;
            unit++;
        }

        return unit == 0 ? $"{value} B" : string.Create(CultureInfo.InvariantCulture, $"{scaled:0.0} {units[unit]}");
    }
}
