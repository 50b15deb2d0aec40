// Owns: `o3ctl status [--watch]`: every member's own /health gathered into one table and one health line.
// A watch keeps going when the node it asked dies: it also tries every member it has seen.
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Views;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace O3Storage.Ctl.Commands;

public static class StatusCommand
{
    /// <summary>One look at the cluster: the leader's view of the members when the leader answers, each row from the member itself.</summary>
    public static async Task<ClusterStatus> CollectAsync(CtlContext ctl, IEnumerable<Uri> seen, CancellationToken token)
    {
        (Uri answering, Health health) = await ctl.Api.ConnectAsync(token, seen).ConfigureAwait(false);
        string[] ids = health.Cluster?.Members is { Count: > 0 } members ? [.. members.Select(m => m.Id)] : [];
        (string Id, Health? Report)[] reports = await Task.WhenAll(ids.Select(async id =>
            (id, id == health.NodeId ? health : await ctl.Api.TryHealthAsync(NodeApi.MemberUri(answering, id), token).ConfigureAwait(false)))).ConfigureAwait(false);
        var byId = reports.ToDictionary(r => r.Id, r => r.Report, StringComparer.Ordinal);
        Health view = health.Cluster?.Leader is { } leader && byId.GetValueOrDefault(leader) is { Cluster.Members: not null } leaderReport ? leaderReport : health;
        return StatusView.Compose(view, byId);
    }

    public static async Task<ExitCode> RunAsync(CtlContext ctl, bool watch, TimeSpan interval, CancellationToken token)
    {
        if (!watch)
        {
            ClusterStatus status = await CollectAsync(ctl, [], token).ConfigureAwait(false);
            Print(ctl, status);
            return status.Health == StatusView.Healthy ? ExitCode.Ok : ExitCode.Degraded;
        }

        var seen = new List<Uri>();
        async Task<IRenderable> LookAsync()
        {
            try
            {
                ClusterStatus status = await CollectAsync(ctl, seen, token).ConfigureAwait(false);
                Uri like = ctl.Api.Settings.Endpoints[0];
                seen = [.. status.Members.Select(m => NodeApi.MemberUri(like, m.Id))];
                if (ctl.Json)
                {
                    ctl.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(status, JsonText.Compact.ClusterStatus));
                    ctl.Output.Flush();
                }

                return Render(status);
            }
            catch (CtlException e)
            {
                // A watch outlives an unreachable cluster: it says so and looks again.
                if (ctl.Json)
                {
                    ctl.Output.WriteLine(JsonText.ErrorLine(e));
                    ctl.Output.Flush();
                }

                return new Markup($"[red]{Markup.Escape(e.Message)}[/]");
            }
        }

        try
        {
            if (ctl.Json || !ctl.Console.Profile.Capabilities.Interactive)
            {
                while (true)
                {
                    IRenderable look = await LookAsync().ConfigureAwait(false);
                    if (!ctl.Json)
                    {
                        ctl.Console.Write(new Rows(new Text(DateTimeOffset.Now.ToString("HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)), look, Text.Empty));
                    }

                    await Task.Delay(interval, token).ConfigureAwait(false);
                }
            }

            await ctl.Console.Live(new Text("asking the cluster...")).StartAsync(async live =>
            {
                while (true)
                {
                    IRenderable look = await LookAsync().ConfigureAwait(false);
                    live.UpdateTarget(new Rows(new Markup($"[grey]o3ctl status --watch, every {interval.TotalSeconds:0.#} s, {DateTimeOffset.Now:HH:mm:ss} (Ctrl-C stops)[/]"), look));
                    await Task.Delay(interval, token).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }

        return ExitCode.Ok;
    }

    private static IRenderable Render(ClusterStatus status) => new Rows(StatusView.Line(status), StatusView.Table(status));

    private static void Print(CtlContext ctl, ClusterStatus status)
    {
        if (ctl.Json)
        {
            ctl.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(status, JsonText.Pretty.ClusterStatus));
            ctl.Output.Flush();
            return;
        }

        ctl.Console.Write(Render(status));
    }
}
