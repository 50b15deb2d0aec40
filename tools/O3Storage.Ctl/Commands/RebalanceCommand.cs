// Owns: `o3ctl rebalance start|status`: starts a pass on the leader and follows it with a live progress
// bar (rate and ETA from the leader's own measurement), or a line per poll when stdout is not a terminal.
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Views;
using Spectre.Console;

namespace O3Storage.Ctl.Commands;

public static class RebalanceCommand
{
    public static async Task<ExitCode> StartAsync(CtlContext ctl, string strategy, bool wait, TimeSpan interval, CancellationToken token)
    {
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Post, "/admin/rebalance", AdminCommands.Body(("strategy", strategy)), token).ConfigureAwait(false);
        RebalanceAnswer started = CtlContext.Parse(reply, CtlJson.Default.RebalanceAnswer);
        if (!wait)
        {
            ctl.Result(reply, () => Markup.Escape(RebalanceView.Line(started)));
            return ExitCode.Ok;
        }

        return await FollowAsync(ctl, interval, token).ConfigureAwait(false);
    }

    public static async Task<ExitCode> StatusAsync(CtlContext ctl, bool watch, TimeSpan interval, CancellationToken token)
    {
        if (watch)
        {
            return await FollowAsync(ctl, interval, token).ConfigureAwait(false);
        }

        (AdminReply reply, RebalanceAnswer status) = await ReadAsync(ctl, token).ConfigureAwait(false);
        ctl.Result(reply, () => Markup.Escape(RebalanceView.Line(status)));
        return status.State == "failed" ? ExitCode.Refused : ExitCode.Ok;
    }

    private static async Task<(AdminReply, RebalanceAnswer)> ReadAsync(CtlContext ctl, CancellationToken token)
    {
        AdminReply reply = await ctl.Api.AdminAsync(HttpMethod.Get, "/admin/rebalance-status", null, token).ConfigureAwait(false);
        return (reply, CtlContext.Parse(reply, CtlJson.Default.RebalanceAnswer));
    }

    /// <summary>Polls the leader until the pass is no longer running: done or idle is 0, failed is 1.</summary>
    private static async Task<ExitCode> FollowAsync(CtlContext ctl, TimeSpan interval, CancellationToken token)
    {
        RebalanceAnswer last;
        if (ctl.Json || !ctl.Console.Profile.Capabilities.Interactive)
        {
            while (true)
            {
                (AdminReply reply, last) = await ReadAsync(ctl, token).ConfigureAwait(false);
                if (ctl.Json)
                {
                    ctl.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(last, JsonText.Compact.RebalanceAnswer));
                    ctl.Output.Flush();
                }
                else
                {
                    ctl.Console.WriteLine($"{DateTimeOffset.Now:HH:mm:ss} {RebalanceView.Line(last)}");
                }

                if (!RebalanceView.IsRunning(last))
                {
                    return last.State == "failed" ? ExitCode.Refused : ExitCode.Ok;
                }

                await Task.Delay(interval, token).ConfigureAwait(false);
            }
        }

        last = (await ReadAsync(ctl, token).ConfigureAwait(false)).Item2;
        await ctl.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                ProgressTask bar = progress.AddTask(Describe(last), maxValue: 100);
                while (true)
                {
                    bar.Value = RebalanceView.Percent(last);
                    bar.Description = Describe(last);
                    if (!RebalanceView.IsRunning(last))
                    {
                        bar.Value = last.State == "failed" ? bar.Value : 100;
                        bar.StopTask();
                        return;
                    }

                    await Task.Delay(interval, token).ConfigureAwait(false);
                    last = (await ReadAsync(ctl, token).ConfigureAwait(false)).Item2;
                }
            }).ConfigureAwait(false);
        ctl.Console.WriteLine(RebalanceView.Line(last));
        return last.State == "failed" ? ExitCode.Refused : ExitCode.Ok;
    }

    private static string Describe(RebalanceAnswer status) => Markup.Escape(RebalanceView.IsRunning(status)
        ? $"rebalance {status.ObjectsMoved}/{status.ObjectsTotal} objects, {RebalanceView.Rate(status)}, {RebalanceView.Eta(status.EtaSeconds)}"
        : $"rebalance {status.State}");
}
