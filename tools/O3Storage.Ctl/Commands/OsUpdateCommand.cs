// Owns: `o3ctl os-update BUNDLE`: a rolling OS update of every member, one board at a time. Each board
// gets the bundle streamed over SSH to `sudo o3-update install -` (the board checks its signature),
// reboots into the new slot on trial and keeps it once its node is healthy; o3ctl waits for that
// commit and for the whole cluster to be healthy again before the next board, so at most one member is
// ever down. A board that rolls back, or does not come back in time, stops the rollout.
using System.Diagnostics;
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Update;

namespace O3Storage.Ctl.Commands;

public sealed record OsUpdateOptions(string Bundle, string SshUser, string? SshIdentity, IReadOnlyList<string> SshOptions, TimeSpan NodeTimeout, bool DryRun, bool AllowOutage = false);

/// <summary>One board's update, as --json prints it.</summary>
public sealed record BoardUpdate(string Id, string Release, string Slot, string Outcome, double Seconds);

/// <summary>What --json prints after a rolling update.</summary>
public sealed record OsUpdateResult(string Release, bool DryRun, IReadOnlyList<string> Order, IReadOnlyList<BoardUpdate> Boards);

public static class OsUpdateCommand
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(5);

    public static async Task<ExitCode> RunAsync(CtlContext ctl, OsUpdateOptions options, CancellationToken token)
    {
        if (!File.Exists(options.Bundle))
        {
            throw new CtlException(ExitCode.Usage, $"no bundle at {options.Bundle}", "make update-bundle builds one (artifacts/image/*.o3update)");
        }

        string release;
        try
        {
            await using FileStream file = File.OpenRead(options.Bundle);
            release = RollingUpdate.ReadRelease(file);
        }
        catch (FormatException e)
        {
            throw new CtlException(ExitCode.Usage, $"{options.Bundle} is not an OS update bundle: {e.Message}", "make update-bundle builds one");
        }

        ClusterStatus status = await StatusCommand.CollectAsync(ctl, [], token).ConfigureAwait(false);
        if (RollingUpdate.Unsafe(status, options.AllowOutage) is { } reason)
        {
            throw new CtlException(ExitCode.Refused, $"not updating: {reason}", "a board is taken down only from a healthy cluster; o3ctl status says what is wrong");
        }

        IReadOnlyList<MemberStatus> order = RollingUpdate.Order(status);
        Say(ctl, $"release {release} to {order.Count} members, one at a time: {string.Join(", ", order.Select(m => m.Id))}");
        var done = new List<BoardUpdate>();
        if (!options.DryRun)
        {
            foreach (MemberStatus member in order)
            {
                BoardUpdate board = await UpdateBoardAsync(ctl, options, member.Id, release, token).ConfigureAwait(false);
                done.Add(board);
                if (board.Outcome != "committed")
                {
                    Finish(ctl, release, options.DryRun, order, done);
                    throw new CtlException(ExitCode.Refused, $"{member.Id}: {board.Outcome}; the rollout stopped there ({done.Count - 1} of {order.Count} boards updated)",
                        "on the board: sudo o3-update status, and journalctl -t o3storage-update -t o3storage-bootstate");
                }
            }
        }

        Finish(ctl, release, options.DryRun, order, done);
        return ExitCode.Ok;
    }

    private static async Task<BoardUpdate> UpdateBoardAsync(CtlContext ctl, OsUpdateOptions options, string id, string release, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        string host = RollingUpdate.Host(id);
        BoardUpdateStatus before = await BoardStatusAsync(options, host, token).ConfigureAwait(false)
            ?? throw new CtlException(ExitCode.Refused, $"{id}: sudo o3-update status over SSH as {options.SshUser} did not answer", "can you ssh to it? (--ssh-user, --ssh-identity)");
        if (before.OnTrial)
        {
            throw new CtlException(ExitCode.Refused, $"{id} is itself on trial (slot {before.RunningSlot})", "wait until it is committed");
        }

        string target = before.RunningSlot == "A" ? "B" : "A";
        Say(ctl, $"{id}: installing into slot {target} (running {before.Release} in slot {before.RunningSlot})");
        // Written without a reboot: the install takes minutes, and the cluster is asked again just
        // before this board goes down, so a member lost meanwhile stops the rollout, not the cluster.
        (int exit, string output) = await SshAsync(options, host, ["sudo", "o3-update", "install", "-", "--no-reboot"], options.Bundle, token).ConfigureAwait(false);
        if (exit != 0 || !output.Contains($"slot {target} boots on trial at the next reboot", StringComparison.Ordinal))
        {
            await CancelTrialAsync(options, host, token).ConfigureAwait(false);
            string why = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("o3-update: ", StringComparison.Ordinal)) ?? $"ssh exited {exit}";
            return new BoardUpdate(id, release, target, $"install refused: {why}", clock.Elapsed.TotalSeconds);
        }

        if (await WhyUnsafeAsync(ctl, options, token).ConfigureAwait(false) is { } unsafeNow)
        {
            await CancelTrialAsync(options, host, token).ConfigureAwait(false);
            return new BoardUpdate(id, release, target, $"not rebooted, the update cancelled: {unsafeNow}", clock.Elapsed.TotalSeconds);
        }

        Say(ctl, $"{id}: written; rebooting into slot {target} on trial");
        _ = await SshAsync(options, host, ["sudo", "systemctl", "reboot"], null, token).ConfigureAwait(false); // the connection drops as it goes
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(token);
        deadline.CancelAfter(options.NodeTimeout);
        try
        {
            while (true)
            {
                await Task.Delay(s_poll, deadline.Token).ConfigureAwait(false);
                BoardUpdateStatus? now = await BoardStatusAsync(options, host, deadline.Token).ConfigureAwait(false);
                if (now is null)
                {
                    continue; // rebooting
                }

                if (now.LastState == "rolled-back")
                {
                    return new BoardUpdate(id, release, target, $"rolled back to slot {now.RunningSlot} ({now.Release})", clock.Elapsed.TotalSeconds);
                }

                if (now.RunningSlot == target && !now.OnTrial && now.LastState == "committed")
                {
                    break;
                }
            }

            Say(ctl, $"{id}: slot {target} committed; waiting for the cluster to be healthy");
            while (await WhyUnsafeAsync(ctl, options, deadline.Token).ConfigureAwait(false) is not null)
            {
                await Task.Delay(s_poll, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return new BoardUpdate(id, release, target, $"not back in a healthy cluster within {options.NodeTimeout.TotalSeconds:0} s", clock.Elapsed.TotalSeconds);
        }

        Say(ctl, $"{id}: updated in {clock.Elapsed.TotalSeconds:0} s");
        return new BoardUpdate(id, release, target, "committed", clock.Elapsed.TotalSeconds);
    }

    /// <summary>Why the cluster may not lose a member now (no member answering is a reason), or null when it may.</summary>
    private static async Task<string?> WhyUnsafeAsync(CtlContext ctl, OsUpdateOptions options, CancellationToken token) =>
        await TryStatusAsync(ctl, token).ConfigureAwait(false) is { } cluster ? RollingUpdate.Unsafe(cluster, options.AllowOutage) : "no member answered";

    /// <summary>Forgets an installed update that has not booted (best effort): no trial is left for a later reboot.</summary>
    private static async Task CancelTrialAsync(OsUpdateOptions options, string host, CancellationToken token) =>
        _ = await SshAsync(options, host, ["sudo", "o3-bootstate", "cancel"], null, token).ConfigureAwait(false);

    private static async Task<ClusterStatus?> TryStatusAsync(CtlContext ctl, CancellationToken token)
    {
        try
        {
            return await StatusCommand.CollectAsync(ctl, [], token).ConfigureAwait(false);
        }
        catch (CtlException)
        {
            return null;
        }
    }

    private static async Task<BoardUpdateStatus?> BoardStatusAsync(OsUpdateOptions options, string host, CancellationToken token)
    {
        (int exit, string output) = await SshAsync(options, host, ["sudo", "o3-update", "status"], null, token).ConfigureAwait(false);
        return exit == 0 ? BoardUpdateStatus.Parse(output) : null;
    }

    /// <summary>Runs a command on a board over SSH (batch mode: keys only, no prompts); its exit code and its output and errors together.</summary>
    private static async Task<(int Exit, string Output)> SshAsync(OsUpdateOptions options, string host, string[] command, string? stdinFile, CancellationToken token)
    {
        var info = new ProcessStartInfo("ssh") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdinFile is not null, UseShellExecute = false };
        foreach (string arg in new[] { "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3" })
        {
            info.ArgumentList.Add(arg);
        }

        foreach (string option in options.SshOptions)
        {
            info.ArgumentList.Add("-o");
            info.ArgumentList.Add(option);
        }

        if (options.SshIdentity is not null)
        {
            info.ArgumentList.Add("-i");
            info.ArgumentList.Add(options.SshIdentity);
        }

        info.ArgumentList.Add($"{options.SshUser}@{host}");
        foreach (string part in command)
        {
            info.ArgumentList.Add(part);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new CtlException(ExitCode.Usage, "could not run ssh");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CtlException(ExitCode.Usage, $"could not run ssh: {e.Message}", "os-update reaches the boards with OpenSSH's ssh (Debian: openssh-client)");
        }

        using (process)
        {
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(token);
            Task<string> stderr = process.StandardError.ReadToEndAsync(token);
            if (stdinFile is not null)
            {
                try
                {
                    await using FileStream file = File.OpenRead(stdinFile);
                    await file.CopyToAsync(process.StandardInput.BaseStream, token).ConfigureAwait(false);
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The board stopped reading (it refused the bundle): its own message says why.
                }
            }

            try
            {
                await process.WaitForExitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await stdout.ConfigureAwait(false) + await stderr.ConfigureAwait(false));
        }
    }

    /// <summary>Progress, on stderr also with --json (the result is stdout's): an update takes minutes per board.</summary>
    private static void Say(CtlContext ctl, string line)
    {
        ctl.Error.WriteLine($"o3ctl: {line}");
        ctl.Error.Flush();
    }

    private static void Finish(CtlContext ctl, string release, bool dryRun, IReadOnlyList<MemberStatus> order, List<BoardUpdate> done)
    {
        var result = new OsUpdateResult(release, dryRun, [.. order.Select(m => m.Id)], done);
        if (ctl.Json)
        {
            ctl.Output.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, JsonText.Pretty.OsUpdateResult));
            return;
        }

        foreach (BoardUpdate board in done)
        {
            ctl.Output.WriteLine($"{board.Id}  slot {board.Slot}  {board.Outcome}  {board.Seconds:0} s");
        }

        if (dryRun)
        {
            ctl.Output.WriteLine($"dry run: would update {string.Join(", ", order.Select(m => m.Id))} to {release}, in that order");
        }
    }
}
