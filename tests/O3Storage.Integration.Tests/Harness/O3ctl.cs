using System.Text.Json;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>Runs the published native-AOT o3ctl (make publish) as a user would, with no config file of the user's.</summary>
internal sealed class O3ctl(ITestOutputHelper output, string endpoint, string? key) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("o3-it-o3ctl-").FullName;

    public static string Path { get; } = Locate();

    public string Home => _home;

    public async Task<(int Exit, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        (int exit, string stdout, string stderr) = await Tool.TryRunAsync(output, Environment(), Path, args);
        output.WriteLine(stdout + stderr);
        return (exit, stdout, stderr);
    }

    /// <summary>Runs with --json; the exit code must be <paramref name="expectedExit"/>, and stdout one JSON document.</summary>
    public async Task<JsonElement> JsonAsync(int expectedExit, params string[] args)
    {
        (int exit, string stdout, string stderr) = await RunAsync([.. args, "--json"]);
        Assert.True(exit == expectedExit, $"o3ctl {string.Join(' ', args)} exited {exit}, not {expectedExit}: {stderr}");
        using JsonDocument document = JsonDocument.Parse(stdout);
        return document.RootElement.Clone();
    }

    /// <summary>Runs with --json expecting a refusal: the exit code, and stderr's JSON error.</summary>
    public async Task<JsonElement> RefusedAsync(int expectedExit, params string[] args)
    {
        (int exit, string stdout, string stderr) = await RunAsync([.. args, "--json"]);
        Assert.True(exit == expectedExit, $"o3ctl {string.Join(' ', args)} exited {exit}, not {expectedExit}: {stderr}");
        Assert.Empty(stdout);
        using JsonDocument document = JsonDocument.Parse(stderr);
        Assert.Equal(expectedExit, document.RootElement.GetProperty("exit_code").GetInt32());
        return document.RootElement.Clone();
    }

    public Dictionary<string, string?> Environment() => new()
    {
        ["HOME"] = _home,
        ["XDG_CONFIG_HOME"] = null,
        ["O3CTL_CONFIG"] = null,
        ["O3CTL_ENDPOINT"] = endpoint,
        ["O3CTL_KEY"] = key,
        ["O3CTL_CA_CERT"] = null,
    };

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static string Locate()
    {
        string? fromEnvironment = System.Environment.GetEnvironmentVariable("O3CTL_BINARY");
        string path = !string.IsNullOrEmpty(fromEnvironment) ? fromEnvironment : System.IO.Path.Combine(NodeBinary.RepositoryRoot, "artifacts", "linux-x64", "o3ctl");
        return File.Exists(path) ? path : throw new InvalidOperationException($"no o3ctl binary at {path}: run 'make publish' (or set O3CTL_BINARY)");
    }
}
