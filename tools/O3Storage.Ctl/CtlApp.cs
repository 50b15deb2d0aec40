// Owns: o3ctl's command line: the command tree (System.CommandLine), the options every command takes,
// and the one path each run goes through: resolve settings, run the command, turn a CtlException into
// a message and an exit code. Parse errors exit 2 without touching the cluster.
using System.CommandLine;
using System.CommandLine.Completions;
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Commands;
using O3Storage.Ctl.Settings;
using Spectre.Console;

namespace O3Storage.Ctl;

/// <summary>What a run reads and writes besides the cluster: injected so the command tree runs in tests.</summary>
public sealed record CtlIo(TextWriter Output, TextWriter Error, IAnsiConsole Console, Func<string, string?> Environment)
{
    public static CtlIo Process()
    {
        IAnsiConsole console = AnsiConsole.Console;
        if (System.Console.IsOutputRedirected)
        {
            // Into a file or a pipe, a table keeps its rows whole rather than wrapping at 80 columns.
            console.Profile.Width = 240;
        }

        return new(System.Console.Out, System.Console.Error, console, System.Environment.GetEnvironmentVariable);
    }
}

public static class CtlApp
{
    private static readonly Option<string[]> s_endpoint = new("--endpoint", "-e")
    {
        Description = $"A node to ask (ip, ip:port or http(s)://ip:port; repeat or comma-separate to try several in order). Else ${CtlSettings.EndpointVariable}, the config file, {CtlSettings.DefaultEndpoint}",
        Recursive = true,
        HelpName = "node",
    };

    private static readonly Option<string> s_key = new("--key")
    {
        Description = $"API key (admin role for changes), sent as a bearer token. Else ${CtlSettings.KeyVariable} or the config file (better: not in your shell history)",
        Recursive = true,
    };

    private static readonly Option<string> s_ca = new("--ca-cert")
    {
        Description = $"The cluster CA (PEM) to trust for https:// endpoints. Else ${CtlSettings.CaVariable} or the config file",
        Recursive = true,
        HelpName = "file",
    };

    private static readonly Option<string> s_config = new("--config")
    {
        Description = $"Config file of 'name = value' lines (endpoint, key, ca_cert). Else ${CtlSettings.ConfigVariable}, ~/.config/o3ctl/config",
        Recursive = true,
        HelpName = "file",
    };

    private static readonly Option<bool> s_json = new("--json")
    {
        Description = "Print the answer as JSON (the node's own for admin calls); errors as JSON on stderr",
        Recursive = true,
    };

    private static readonly Option<double> s_timeout = new("--timeout")
    {
        Description = "Seconds to wait for each call",
        Recursive = true,
        DefaultValueFactory = _ => 30,
        HelpName = "seconds",
    };

    private static readonly Option<double> s_interval = new("--interval")
    {
        Description = "Seconds between looks while watching",
        DefaultValueFactory = _ => 2,
        HelpName = "seconds",
    };

    public static RootCommand Build(CtlIo io)
    {
        var root = new RootCommand("o3ctl: operate an O3StorageOS cluster through any of its nodes (docs/o3ctl.md)");
        root.Options.Add(s_endpoint);
        root.Options.Add(s_key);
        root.Options.Add(s_ca);
        root.Options.Add(s_config);
        root.Options.Add(s_json);
        root.Options.Add(s_timeout);

        var watch = new Option<bool>("--watch", "-w") { Description = "Look again every --interval seconds until Ctrl-C" };
        var status = new Command("status", "Members with role, state, version, objects, bytes, LED and temperature, and the cluster's health in one line (exit 6 when not healthy)");
        status.Options.Add(watch);
        status.Options.Add(s_interval);
        status.SetAction(Run(io, (ctl, parse, token) => StatusCommand.RunAsync(ctl, parse.GetValue(watch), Seconds(parse.GetValue(s_interval)), token)));
        root.Subcommands.Add(status);

        root.Subcommands.Add(NodeCommand(io));
        root.Subcommands.Add(MaintenanceCommand(io));
        root.Subcommands.Add(RebalanceCommand(io));
        root.Subcommands.Add(SnapshotCommand(io));
        root.Subcommands.Add(KeysCommand(io));
        root.Subcommands.Add(BackupCommand(io));
        root.Subcommands.Add(RestoreCommand(io));
        root.Subcommands.Add(FlashCommand(io));
        root.Subcommands.Add(OsUpdateCommand(io));
        root.Subcommands.Add(CompletionCommand(io));
        return root;
    }

    /// <summary>Parses and runs; the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CtlIo io, CancellationToken token = default)
    {
        RootCommand root = Build(io);
        ParseResult parsed = root.Parse(args);
        bool suggesting = root.Directives.OfType<SuggestDirective>().Any(d => parsed.GetResult(d) is not null);
        if (parsed.Errors.Count > 0 && !suggesting)
        {
            foreach (System.CommandLine.Parsing.ParseError error in parsed.Errors)
            {
                Report(io, parsed.GetValue(s_json), new CtlException(ExitCode.Usage, error.Message, "o3ctl --help lists the commands; o3ctl COMMAND --help their options"));
            }

            return (int)ExitCode.Usage;
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { Output = io.Output, Error = io.Error }, token).ConfigureAwait(false);
    }

    private static Command NodeCommand(CtlIo io)
    {
        var node = new Command("node", "Take members out of the cluster");
        var id = new Argument<string>("node") { Description = "The member's ip:port as status lists it (or its ip alone)" };
        var force = new Option<bool>("--force") { Description = "Remove a live member at once, without moving its objects first (they are rebuilt from the other replicas)" };
        var remove = new Command("remove", "Remove a member: a live one drains first (its objects move away), a down one is removed at once");
        remove.Arguments.Add(id);
        remove.Options.Add(force);
        remove.SetAction(Run(io, (ctl, parse, token) => AdminCommands.RemoveNodeAsync(ctl, parse.GetValue(id)!, parse.GetValue(force), drainOnly: false, token)));
        var drain = new Command("drain", "Drain a live member: its objects move to the others, then it leaves the cluster (follow with o3ctl rebalance status --watch)");
        drain.Arguments.Add(id);
        drain.SetAction(Run(io, (ctl, parse, token) => AdminCommands.RemoveNodeAsync(ctl, parse.GetValue(id)!, force: false, drainOnly: true, token)));
        node.Subcommands.Add(remove);
        node.Subcommands.Add(drain);
        return node;
    }

    private static Command MaintenanceCommand(CtlIo io)
    {
        var maintenance = new Command("maintenance", "Cluster maintenance mode: writes refused everywhere while it is on");
        var reason = new Option<string>("--reason") { Description = "Why (shown in /health and the log)", DefaultValueFactory = _ => "maintenance" };
        var on = new Command("on", "Turn maintenance mode on");
        on.Options.Add(reason);
        on.SetAction(Run(io, (ctl, parse, token) => AdminCommands.MaintenanceAsync(ctl, true, parse.GetValue(reason), token)));
        var off = new Command("off", "Turn maintenance mode off: writes accepted again");
        off.SetAction(Run(io, (ctl, _, token) => AdminCommands.MaintenanceAsync(ctl, false, null, token)));
        var show = new Command("status", "Whether maintenance mode is on, since when and why");
        show.SetAction(Run(io, (ctl, _, token) => AdminCommands.MaintenanceStatusAsync(ctl, token)));
        maintenance.Subcommands.Add(on);
        maintenance.Subcommands.Add(off);
        maintenance.Subcommands.Add(show);
        return maintenance;
    }

    private static Command RebalanceCommand(CtlIo io)
    {
        var rebalance = new Command("rebalance", "Move objects to where placement wants them");
        var strategy = new Option<string>("--strategy") { Description = "Rebalance strategy", DefaultValueFactory = _ => "even_distribution" };
        var wait = new Option<bool>("--wait") { Description = "Follow the pass with a progress bar until it is done" };
        var start = new Command("start", "Start a pass on the leader (exit 1 if a followed pass fails)");
        start.Options.Add(strategy);
        start.Options.Add(wait);
        start.Options.Add(s_interval);
        start.SetAction(Run(io, (ctl, parse, token) => Commands.RebalanceCommand.StartAsync(ctl, parse.GetValue(strategy)!, parse.GetValue(wait), Seconds(parse.GetValue(s_interval)), token)));
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow the pass with a progress bar (rate, ETA) until it is done" };
        var show = new Command("status", "The current or last pass: objects and bytes moved, rate, time left");
        show.Options.Add(watch);
        show.Options.Add(s_interval);
        show.SetAction(Run(io, (ctl, parse, token) => Commands.RebalanceCommand.StatusAsync(ctl, parse.GetValue(watch), Seconds(parse.GetValue(s_interval)), token)));
        rebalance.Subcommands.Add(start);
        rebalance.Subcommands.Add(show);
        return rebalance;
    }

    private static Command SnapshotCommand(CtlIo io)
    {
        var snapshot = new Command("snapshot", "Point-in-time snapshots of the namespace");
        var optionalName = new Argument<string?>("name") { Description = "Snapshot name (default: snapshot-YYYYMMDD_HHMMSS, as the guide's script)", Arity = ArgumentArity.ZeroOrOne };
        var name = new Argument<string>("name") { Description = "Snapshot name" };
        var force = new Option<bool>("--force") { Description = "Restore again although it is the last snapshot restored (objects written since are set back)" };
        var create = new Command("create", "Take a snapshot (an existing name answers 'exists')");
        create.Arguments.Add(optionalName);
        create.SetAction(Run(io, (ctl, parse, token) => AdminCommands.SnapshotCreateAsync(ctl, parse.GetValue(optionalName), token)));
        var list = new Command("list", "Every snapshot, oldest first, and what they pin");
        list.SetAction(Run(io, (ctl, _, token) => AdminCommands.SnapshotListAsync(ctl, token)));
        var delete = new Command("delete", "Delete a snapshot (its blobs are collected unless another holds them)");
        delete.Arguments.Add(name);
        delete.SetAction(Run(io, (ctl, parse, token) => AdminCommands.SnapshotDeleteAsync(ctl, parse.GetValue(name)!, token)));
        var restore = new Command("restore", "Return the namespace to a snapshot");
        restore.Arguments.Add(name);
        restore.Options.Add(force);
        restore.SetAction(Run(io, (ctl, parse, token) => AdminCommands.RestoreAsync(ctl, parse.GetValue(name)!, parse.GetValue(force), token)));
        snapshot.Subcommands.Add(create);
        snapshot.Subcommands.Add(list);
        snapshot.Subcommands.Add(delete);
        snapshot.Subcommands.Add(restore);
        return snapshot;
    }

    private static Command KeysCommand(CtlIo io)
    {
        var keys = new Command("keys", "API keys the cluster honours (never their secrets)");
        var list = new Command("list", "Every key, its role and which members' files hold it");
        list.SetAction(Run(io, (ctl, _, token) => AdminCommands.KeysListAsync(ctl, token)));
        var id = new Argument<string>("access-key-id") { Description = "The key's access key id, as keys list shows it" };
        var retire = new Command("retire", "Retire the first admin key (once another admin key is in a member's api-keys.txt)");
        retire.Arguments.Add(id);
        retire.SetAction(Run(io, (ctl, parse, token) => AdminCommands.KeysRetireAsync(ctl, parse.GetValue(id)!, token)));
        var add = new Command("add", "Add a key (not yet: the nodes have no call for it)");
        add.SetAction(Run(io, (_, _, _) => throw new CtlException(ExitCode.NotSupported, "the cluster has no call to add a key yet",
            "add a line 'SECRET:ROLE' to /opt/o3storage/api-keys.txt on any member: every node honours it within seconds (docs/auth.md)")));
        keys.Subcommands.Add(list);
        keys.Subcommands.Add(retire);
        keys.Subcommands.Add(add);
        return keys;
    }

    private static Command BackupCommand(CtlIo io)
    {
        var path = new Argument<string>("path") { Description = "A new (or empty) directory, a new .tar file, or - for standard output" };
        var snapshot = new Option<string>("--snapshot") { Description = "Read this existing snapshot (default: take one now, backup-YYYYMMDD_HHMMSS)", HelpName = "name" };
        var keep = new Option<bool>("--keep-snapshot") { Description = "Keep the snapshot the backup took (default: deleted when the backup is done)" };
        var backup = new Command("backup", "Copy every bucket and object of one snapshot, with their metadata, to a directory or tar archive, checked on the way (the cluster stays online)");
        backup.Arguments.Add(path);
        backup.Options.Add(snapshot);
        backup.Options.Add(keep);
        backup.SetAction(Run(io, (ctl, parse, token) => Commands.BackupCommand.BackupAsync(ctl, parse.GetValue(path)!, parse.GetValue(snapshot), parse.GetValue(keep), token)));
        return backup;
    }

    private static Command RestoreCommand(CtlIo io)
    {
        var path = new Argument<string>("path") { Description = "A backup directory or .tar file o3ctl backup wrote, or - for standard input" };
        var resume = new Option<bool>("--resume") { Description = "Go on with a restore that stopped: buckets may hold objects, and objects already there (same size and ETag) are skipped" };
        var verifyOnly = new Option<bool>("--verify-only") { Description = "Only check the backup (whole, every SHA-256 as recorded); no cluster is asked" };
        var restore = new Command("restore", "Restore a backup into an empty cluster: its buckets, then every object with its metadata, each checked by SHA-256 as it is stored");
        restore.Arguments.Add(path);
        restore.Options.Add(resume);
        restore.Options.Add(verifyOnly);
        restore.SetAction(Run(io, (ctl, parse, token) => Commands.BackupCommand.RestoreAsync(ctl, parse.GetValue(path)!, parse.GetValue(resume), parse.GetValue(verifyOnly), token)));
        return restore;
    }

    private static Command FlashCommand(CtlIo io)
    {
        var image = new Argument<string>("image") { Description = "The image (.img) make image built; its .bmap beside it is used" };
        var device = new Argument<string>("device") { Description = "The whole card, e.g. /dev/sdb or /dev/mmcblk0 (lsblk)" };
        var bmap = new Option<string>("--bmap") { Description = "The block map (default IMAGE.bmap; without one every block is written)", HelpName = "file" };
        var cluster = new Option<string>("--cluster") { Description = "cluster_name in o3storage.txt", DefaultValueFactory = _ => "o3storage", HelpName = "name" };
        var token = new Option<string>("--join-token") { Description = "join_token in o3storage.txt (default: from --token-file, made there on the first card)", HelpName = "token" };
        var tokenFile = new Option<string>("--token-file") { Description = "Where the cluster's join token is kept for the next cards (default ./o3storage-CLUSTER.token, mode 600)", HelpName = "file" };
        var expected = new Option<int>("--expected-nodes") { Description = "expected_nodes in o3storage.txt: how many boards form the cluster", DefaultValueFactory = _ => 3, HelpName = "n" };
        var hostname = new Option<string>("--hostname") { Description = "hostname in o3storage.txt (per card; default o3- and the machine id)", HelpName = "name" };
        var sshKey = new Option<string>("--ssh-key") { Description = "An SSH public key to copy to the boot partition as authorized_keys", HelpName = "file.pub" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask before erasing the device" };
        var flash = new Command("flash", "Write an image to a card (only its mapped blocks, verified) with o3storage.txt for your cluster on its boot partition");
        flash.Arguments.Add(image);
        flash.Arguments.Add(device);
        foreach (Option option in new Option[] { bmap, cluster, token, tokenFile, expected, hostname, sshKey, yes })
        {
            flash.Options.Add(option);
        }

        // Local work only: no cluster is asked, so no endpoint, key or config file is resolved.
        flash.SetAction(Run(io, (ctl, parse, cancel) =>
        {
            string name = parse.GetValue(cluster)!;
            var options = new FlashOptions(parse.GetValue(image)!, parse.GetValue(device)!, parse.GetValue(bmap), name, parse.GetValue(token),
                parse.GetValue(tokenFile) ?? $"o3storage-{name}.token", parse.GetValue(expected), parse.GetValue(hostname), parse.GetValue(sshKey), parse.GetValue(yes));
            return Commands.FlashCommand.RunAsync(ctl, options, cancel);
        }, local: true));
        return flash;
    }

    private static Command OsUpdateCommand(CtlIo io)
    {
        var bundle = new Argument<string>("bundle") { Description = "The signed bundle make update-bundle built (*.o3update)" };
        var user = new Option<string>("--ssh-user") { Description = "Who o3ctl logs in as on each board (sudo o3-update)", DefaultValueFactory = _ => "o3admin", HelpName = "user" };
        var identity = new Option<string>("--ssh-identity") { Description = "The SSH private key for the boards (default: ssh's own)", HelpName = "file" };
        var timeout = new Option<double>("--node-timeout") { Description = "Seconds a board has to be committed and the cluster healthy again", DefaultValueFactory = _ => 1800, HelpName = "seconds" };
        var sshOptions = new Option<string[]>("--ssh-option") { Description = "An ssh -o option for every connection (repeatable), e.g. UserKnownHostsFile=~/.ssh/o3_known_hosts", HelpName = "key=value", AllowMultipleArgumentsPerToken = false };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the bundle and the cluster and print the order; update nothing" };
        var allowOutage = new Option<bool>("--allow-outage") { Description = "Update a cluster of one or two members, which loses quorum while a board reboots" };
        var update = new Command("os-update", "Rolling OS update: each member in turn (leader last) installs the bundle into its other slot over SSH, boots it on trial and keeps it once healthy; the next waits for a healthy cluster");
        update.Arguments.Add(bundle);
        foreach (Option option in new Option[] { user, identity, sshOptions, timeout, dryRun, allowOutage })
        {
            update.Options.Add(option);
        }

        update.SetAction(Run(io, (ctl, parse, cancel) => Commands.OsUpdateCommand.RunAsync(ctl,
            new OsUpdateOptions(parse.GetValue(bundle)!, parse.GetValue(user)!, parse.GetValue(identity), parse.GetValue(sshOptions) ?? [],
                TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(timeout), 60, 86400)), parse.GetValue(dryRun), parse.GetValue(allowOutage)), cancel)));
        return update;
    }

    private static Command CompletionCommand(CtlIo io)
    {
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh");
        var completion = new Command("completion", "Print a shell completion script: source <(o3ctl completion bash)");
        completion.Arguments.Add(shell);
        completion.SetAction(parse =>
        {
            io.Output.Write(Completion.Script(parse.GetValue(shell)!));
            return (int)ExitCode.Ok;
        });
        return completion;
    }

    private static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(Math.Clamp(seconds, 0.2, 3600));

    /// <summary>The one way a command runs: settings resolved, the node API made, errors reported with their exit code.</summary>
    /// <param name="local">The command asks no cluster (flash): no settings are resolved, so no config file can stop it.</param>
    private static Func<ParseResult, CancellationToken, Task<int>> Run(CtlIo io, Func<CtlContext, ParseResult, CancellationToken, Task<ExitCode>> command, bool local = false) =>
        async (parse, token) =>
        {
            bool json = parse.GetValue(s_json);
            try
            {
                CtlSettings settings = local ? new CtlSettings([CtlSettings.ParseEndpoint(CtlSettings.DefaultEndpoint)], null, null, []) : Resolve(parse, io);
                foreach (string warning in settings.Warnings)
                {
                    io.Error.WriteLine($"o3ctl: warning: {warning}");
                }

                double timeout = parse.GetValue(s_timeout);
                if (timeout is <= 0 or > 3600)
                {
                    throw new CtlException(ExitCode.Usage, $"--timeout {timeout} is out of range", "give seconds between 0 and 3600");
                }

                using var api = new NodeApi(settings, TimeSpan.FromSeconds(timeout));
                return (int)await command(new CtlContext(api, io.Console, io.Output, io.Error, json), parse, token).ConfigureAwait(false);
            }
            catch (CtlException e)
            {
                Report(io, json, e);
                return (int)e.Code;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return 130;
            }
        };

    private static CtlSettings Resolve(ParseResult parse, CtlIo io)
    {
        string? named = parse.GetValue(s_config) ?? io.Environment(CtlSettings.ConfigVariable);
        string path = named ?? CtlSettings.DefaultConfigPath(io.Environment);
        string? text = null;
        bool readableByOthers = false;
        try
        {
            text = File.ReadAllText(path);
            readableByOthers = (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && named is null)
        {
            // No config file is fine unless one was named.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CtlException(ExitCode.Usage, $"cannot read the config file {path}: {e.Message}", "--config or $O3CTL_CONFIG names it; lines are 'name = value'");
        }

        return CtlSettings.Resolve(parse.GetValue(s_endpoint) ?? [], parse.GetValue(s_key), parse.GetValue(s_ca), io.Environment, path, text, readableByOthers);
    }

    private static void Report(CtlIo io, bool json, CtlException e)
    {
        io.Error.WriteLine(json ? JsonText.ErrorLine(e) : $"o3ctl: {e.Message}" + (e.Detail is { } detail ? $"\n  {detail}" : string.Empty));
        io.Error.Flush();
    }
}
