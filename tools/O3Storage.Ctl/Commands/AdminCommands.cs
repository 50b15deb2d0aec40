// Owns: the o3ctl commands that are one admin call each: node remove|drain, maintenance, snapshot, keys.
// Each prints one human line from the node's answer, or the answer itself with --json; a refusal is the
// node's own error and detail (CtlException), so o3ctl never says less than curl would.
using System.Globalization;
using System.Text;
using System.Text.Json;
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Views;
using Spectre.Console;

namespace O3Storage.Ctl.Commands;

public static class AdminCommands
{
    /// <summary>POST /admin/remove-node: a live member drains first (its objects move away), a down one is removed at once.</summary>
    public static async Task<ExitCode> RemoveNodeAsync(CtlContext ctl, string node, bool force, bool drainOnly, CancellationToken token)
    {
        if (drainOnly && force)
        {
            throw new CtlException(ExitCode.Usage, "drain does not take --force", "o3ctl node remove --force removes a live member without draining it");
        }

        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/remove-node", Body(("node_id", node), ("force", force)), token).ConfigureAwait(false);
        RemoveNodeAnswer answer = CtlContext.Parse(reply, CtlJson.Default.RemoveNodeAnswer);
        if (drainOnly && answer.State == "removed")
        {
            // The node was down, so there was nothing to drain: say so rather than pretend.
            ctl.Error.WriteLine($"o3ctl: {answer.NodeId} did not answer, so it was removed at once instead of drained");
        }

        ctl.Result(reply, () => $"{Markup.Escape(answer.NodeId ?? node)}: [bold]{Markup.Escape(answer.State ?? "?")}[/] ({answer.Objects} objects). {Markup.Escape(answer.Detail ?? string.Empty)}");
        return ExitCode.Ok;
    }

    public static async Task<ExitCode> MaintenanceAsync(CtlContext ctl, bool enabled, string? reason, CancellationToken token)
    {
        string body = enabled ? Body(("enabled", true), ("reason", reason ?? "maintenance")) : Body(("enabled", false));
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/maintenance", body, token).ConfigureAwait(false);
        MaintenanceAnswer answer = CtlContext.Parse(reply, CtlJson.Default.MaintenanceAnswer);
        ctl.Result(reply, () => answer.Enabled
            ? $"maintenance [yellow]on[/] since {answer.Since:u}: {Markup.Escape(answer.Reason ?? string.Empty)} (writes refused cluster-wide)"
            : "maintenance [green]off[/]: writes accepted");
        return ExitCode.Ok;
    }

    /// <summary>Maintenance as the leader's /health shows it (there is no GET for it; a follower may not have applied the latest change yet).</summary>
    public static async Task<ExitCode> MaintenanceStatusAsync(CtlContext ctl, CancellationToken token)
    {
        Health health = await ctl.Api.LeaderHealthAsync(token).ConfigureAwait(false);
        MaintenancePart mode = health.Cluster?.Maintenance ?? new MaintenancePart(false, null, null);
        if (ctl.Json)
        {
            ctl.Output.WriteLine(JsonSerializer.Serialize(new MaintenanceAnswer(mode.Enabled, mode.Reason, mode.Since, health.Cluster?.WriteEnabled ?? false), JsonText.Pretty.MaintenanceAnswer));
        }
        else
        {
            ctl.Console.MarkupLine(mode.Enabled ? $"maintenance [yellow]on[/] since {mode.Since:u}: {Markup.Escape(mode.Reason ?? string.Empty)}" : "maintenance [green]off[/]");
        }

        return ExitCode.Ok;
    }

    public static async Task<ExitCode> SnapshotCreateAsync(CtlContext ctl, string? name, CancellationToken token)
    {
        // The guide's snapshot-cluster.sh name, when none is given.
        name ??= "snapshot-" + DateTime.Now.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/snapshot", Body(("name", name)), token).ConfigureAwait(false);
        SnapshotAnswer answer = CtlContext.Parse(reply, CtlJson.Default.SnapshotAnswer);
        ctl.Result(reply, () => $"snapshot {Markup.Escape(answer.Name ?? name)} [bold]{Markup.Escape(answer.Status ?? "?")}[/]: {answer.Snapshot?.Objects ?? 0} objects, {StatusView.Bytes(answer.Snapshot?.Bytes ?? 0)} at index {answer.Snapshot?.Index}");
        return ExitCode.Ok;
    }

    public static async Task<ExitCode> SnapshotListAsync(CtlContext ctl, CancellationToken token)
    {
        (SnapshotListAnswer? answer, Table table) = await ListAsync(ctl, "/admin/snapshots", CtlJson.Default.SnapshotListAnswer, token, "NAME", "CREATED", "INDEX", "BUCKETS", "OBJECTS", "BYTES", "PINNED").ConfigureAwait(false);
        if (answer is null)
        {
            return ExitCode.Ok;
        }

        foreach (SnapshotPart snapshot in answer.Snapshots ?? [])
        {
            table.AddRow(Markup.Escape(snapshot.Name ?? "?"), snapshot.CreatedAt.ToString("u", CultureInfo.InvariantCulture), snapshot.Index.ToString(CultureInfo.InvariantCulture),
                snapshot.Buckets.ToString(CultureInfo.InvariantCulture), snapshot.Objects.ToString("N0", CultureInfo.InvariantCulture), StatusView.Bytes(snapshot.Bytes), StatusView.Bytes(snapshot.PinnedBytes));
        }

        ctl.Console.Write(table);
        int count = answer.Snapshots?.Count ?? 0;
        ctl.Console.MarkupLine($"{count} snapshot{(count == 1 ? " pins" : "s pin")} {StatusView.Bytes(answer.PinnedBytes)} in {answer.PinnedBlobs} blobs"
            + (answer.LastRestore is { } last ? $"; last restore: {Markup.Escape(last.Snapshot ?? "?")} at {last.RestoredAt:u}" : string.Empty));
        return ExitCode.Ok;
    }

    public static async Task<ExitCode> SnapshotDeleteAsync(CtlContext ctl, string name, CancellationToken token)
    {
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Delete, "/admin/snapshots/" + Uri.EscapeDataString(name), null, token).ConfigureAwait(false);
        SnapshotAnswer answer = CtlContext.Parse(reply, CtlJson.Default.SnapshotAnswer);
        ctl.Result(reply, () => $"snapshot {Markup.Escape(answer.Name ?? name)} [bold]{Markup.Escape(answer.Status ?? "?")}[/]. {Markup.Escape(answer.Detail ?? string.Empty)}");
        return ExitCode.Ok;
    }

    public static async Task<ExitCode> RestoreAsync(CtlContext ctl, string name, bool force, CancellationToken token)
    {
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/restore", Body(("snapshot", name), ("force", force)), token).ConfigureAwait(false);
        RestoreAnswer answer = CtlContext.Parse(reply, CtlJson.Default.RestoreAnswer);
        ctl.Result(reply, () => $"snapshot {Markup.Escape(answer.Snapshot ?? name)} [bold]{Markup.Escape(answer.Status ?? "?")}[/]: {answer.Objects} objects, {StatusView.Bytes(answer.Bytes)}. {Markup.Escape(answer.Detail ?? string.Empty)}");
        return ExitCode.Ok;
    }

    public static async Task<ExitCode> KeysListAsync(CtlContext ctl, CancellationToken token)
    {
        (KeyListAnswer? answer, Table table) = await ListAsync(ctl, "/admin/keys", CtlJson.Default.KeyListAnswer, token, "ACCESS KEY ID", "ROLE", "HELD BY").ConfigureAwait(false);
        if (answer is null)
        {
            return ExitCode.Ok;
        }

        foreach (KeyPart key in answer.Keys ?? [])
        {
            table.AddRow(Markup.Escape(key.AccessKeyId ?? "?"), Markup.Escape(key.Role ?? "?"), Markup.Escape(string.Join(", ", key.Sources ?? [])));
        }

        ctl.Console.Write(table);
        ctl.Console.MarkupLine($"first admin key: {Markup.Escape(answer.FirstAdminKey ?? "?")}. {Markup.Escape(answer.Detail ?? string.Empty)}");
        return ExitCode.Ok;
    }

    public static async Task<ExitCode> KeysRetireAsync(CtlContext ctl, string accessKeyId, CancellationToken token)
    {
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Delete, "/admin/keys/" + Uri.EscapeDataString(accessKeyId), null, token).ConfigureAwait(false);
        KeyRetiredAnswer answer = CtlContext.Parse(reply, CtlJson.Default.KeyRetiredAnswer);
        ctl.Result(reply, () => $"key {Markup.Escape(answer.AccessKeyId ?? accessKeyId)} [bold]{Markup.Escape(answer.Status ?? "?")}[/]. {Markup.Escape(answer.Detail ?? string.Empty)}");
        return ExitCode.Ok;
    }

    /// <summary>A listing: printed as the node's JSON (null answer: done), or read for a table with these columns.</summary>
    private static async Task<(T? Answer, Table Table)> ListAsync<T>(CtlContext ctl, string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken token, params string[] columns)
        where T : class
    {
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Get, path, null, token).ConfigureAwait(false);
        T answer = CtlContext.Parse(reply, type);
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumns(columns);
        if (ctl.Json)
        {
            ctl.WriteJson(reply.Body);
            return (null, table);
        }

        return (answer, table);
    }

    /// <summary>A JSON object of the given fields (string, bool); no reflection.</summary>
    public static string Body(params (string Name, object Value)[] fields)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach ((string name, object value) in fields)
            {
                switch (value)
                {
                    case bool flag:
                        writer.WriteBoolean(name, flag);
                        break;
                    case string text:
                        writer.WriteString(name, text);
                        break;
                    default:
                        throw new ArgumentException($"field {name} is neither text nor a flag", nameof(fields));
                }
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
