using System.Text.Json;
using O3Storage.Ctl.Settings;
using Spectre.Console;

namespace O3Storage.Ctl.Tests;

/// <summary>The command line run in-process: what it refuses before touching a cluster, and with which exit code.</summary>
public sealed class CtlAppTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("o3ctl-test-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private async Task<(int Exit, string Output, string Error)> RunAsync(string[] args, params (string Name, string Value)[] env)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        Func<string, string?> environment = name => name == "HOME" ? _home : env.FirstOrDefault(v => v.Name == name).Value;
        int exit = await CtlApp.RunAsync(args, new CtlIo(output, error, console, environment));
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("status", "--interval")]
    [InlineData("snapshot", "delete")]
    [InlineData("node", "remove", "10.0.0.1:8080", "--forse")]
    [InlineData("completion", "fish")]
    public async Task WrongCommandLine_ExitsTwo_SaysWhatIsWrong(params string[] args)
    {
        (int exit, _, string error) = await RunAsync(args);
        Assert.Equal((int)ExitCode.Usage, exit);
        Assert.StartsWith("o3ctl: ", error);
        Assert.Contains("--help", error);
    }

    [Fact]
    public async Task NoCommand_ExitsTwo()
    {
        (int exit, _, string error) = await RunAsync([]);
        Assert.Equal((int)ExitCode.Usage, exit);
        Assert.Contains("command", error);
    }

    [Theory]
    [InlineData("--endpoint", "ftp://10.0.0.1")]
    [InlineData("--timeout", "0")]
    [InlineData("--ca-cert", "/nonexistent/ca.pem")]
    [InlineData("--config", "/nonexistent/o3ctl.conf")]
    public async Task BadSetting_ExitsTwo_BeforeAnyCall(string option, string value)
    {
        (int exit, _, string error) = await RunAsync(["status", option, value]);
        Assert.Equal((int)ExitCode.Usage, exit);
        Assert.StartsWith("o3ctl: ", error);
    }

    [Fact]
    public async Task NodeDoesNotAnswer_ExitsThree_AsJsonWithJson()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        (int exit, string output, string error) = await RunAsync(["status", "--json", "--endpoint", "127.0.0.1:1"]);
        Assert.Equal((int)ExitCode.Unreachable, exit);
        Assert.Empty(output);
        using JsonDocument document = JsonDocument.Parse(error);
        Assert.Equal(3, document.RootElement.GetProperty("exit_code").GetInt32());
        Assert.Contains("127.0.0.1:1: connection refused", document.RootElement.GetProperty("error").GetString());
        Assert.Contains("--endpoint", document.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ConfigFile_EndpointComesFromIt_AndAMistypedLineIsRefused()
    {
        string config = Path.Combine(_home, ".config", "o3ctl", "config");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        await File.WriteAllTextAsync(config, "endpoint = 127.0.0.1:1\n");
        (int exit, _, string error) = await RunAsync(["status"]);
        Assert.Equal((int)ExitCode.Unreachable, exit);
        Assert.Contains("127.0.0.1:1", error);

        await File.WriteAllTextAsync(config, "endpiont = 127.0.0.1:1\n");
        (exit, _, error) = await RunAsync(["status"]);
        Assert.Equal((int)ExitCode.Usage, exit);
        Assert.Contains("line 1: 'endpiont' is not a setting", error);

        (exit, _, error) = await RunAsync(["status"], (CtlSettings.ConfigVariable, "/nonexistent/named"));
        Assert.Equal((int)ExitCode.Usage, exit);
        Assert.Contains("/nonexistent/named", error);
    }

    [Fact]
    public async Task KeysAdd_NotSupported_ExitsFive_SaysWhatToDoInstead()
    {
        (int exit, _, string error) = await RunAsync(["keys", "add", "--endpoint", "127.0.0.1:1"]);
        Assert.Equal((int)ExitCode.NotSupported, exit);
        Assert.Contains("api-keys.txt", error);
    }

    [Theory]
    [InlineData("bash", "complete -o default -F _o3ctl_complete o3ctl")]
    [InlineData("zsh", "compdef _o3ctl_complete o3ctl")]
    public async Task Completion_PrintsAScriptThatAsksO3ctlItself(string shell, string hook)
    {
        (int exit, string output, _) = await RunAsync(["completion", shell]);
        Assert.Equal(0, exit);
        Assert.Contains("[suggest:", output);
        Assert.Contains(hook, output);
    }

    [Fact]
    public async Task SuggestDirective_CompletesCommandsAndSubcommands()
    {
        (int exit, string output, _) = await RunAsync(["[suggest:15]", "o3ctl snapshot "]);
        Assert.Equal(0, exit);
        Assert.Equal(["create", "delete", "list", "restore"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith('-') && !l.StartsWith('/')));
    }
}
