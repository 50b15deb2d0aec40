using O3Storage.Chaos.Nemesis;
using O3Storage.Chaos.Run;

namespace O3Storage.Chaos.Tests.Nemesis;

public sealed class RunOptionsParserTests
{
    private static readonly string s_binary = typeof(RunOptionsParserTests).Assembly.Location;

    [Fact]
    public void Flags_RoundTrip_ForTheRunInsideTheNamespace()
    {
        RunOptions options = RunOptionsParser.TryParse(["--seed", "7", "--nodes", "5", "--faults", "kill,isolate", "--consistency", "eventual", "--binary", s_binary, "--out", "/tmp/x"], out string? error)!;
        Assert.Null(error);
        Assert.Equal([FaultKind.Kill, FaultKind.Isolate], options.Faults);
        RunOptions again = RunOptionsParser.TryParse(RunOptionsParser.ToArgs(options, 9), out _)!;
        Assert.Equal(9, again.Seed);
        Assert.Equal(5, again.Nodes);
        Assert.Equal("eventual", again.Consistency);
        Assert.Equal(options.Faults, again.Faults);
        Assert.Equal("/tmp/x", again.OutputDirectory);
    }

    [Fact]
    public void PowerCuts_TakeTheFileSystem_AlongToTheRunInside_AndOnlyThen()
    {
        RunOptions options = RunOptionsParser.TryParse(["--faults", "powercut,replace", "--powercut-fs", s_binary, "--binary", s_binary], out string? error)!;
        Assert.Null(error);
        Assert.True(options.CutsPower);
        string[] args = RunOptionsParser.ToArgs(options, 3);
        Assert.Equal(s_binary, RunOptionsParser.TryParse(args, out _)!.PowerCutFs);

        RunOptions withoutCuts = RunOptionsParser.TryParse(["--faults", "replace,kill", "--binary", s_binary], out _)!;
        Assert.DoesNotContain("--powercut-fs", RunOptionsParser.ToArgs(withoutCuts, 3));
    }

    [Fact]
    public void PowerCuts_WithoutTheFileSystem_AreRefused_WithTheWayOut()
    {
        Assert.Null(RunOptionsParser.TryParse(["--faults", "kill,powercut", "--binary", s_binary, "--powercut-fs", "/nonexistent/powercut-fs"], out string? error));
        Assert.Equal("--powercut-fs '/nonexistent/powercut-fs' is not valid", error);
        string missing = Path.Combine(Path.GetTempPath(), "o3-no-such-dir");
        Assert.Null(RunOptionsParser.TryParse(["--faults", "powercut", "--binary", s_binary, "--out", missing], out error));
        Assert.Contains("make powercut-fs", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--nodes", "4", "--nodes '4' is not valid")]
    [InlineData("--faults", "kill,flood", "unknown fault 'flood' (partition, isolate, bridge, kill, pause, powercut, replace)")]
    [InlineData("--duration", "1", "--duration '1' is not valid")]
    [InlineData("--consistency", "weak", "--consistency 'weak' is not valid")]
    [InlineData("--frobnicate", "1", "unknown flag '--frobnicate'")]
    public void BadFlags_AreRefused_WithTheReason(string flag, string value, string expected)
    {
        Assert.Null(RunOptionsParser.TryParse([flag, value, "--binary", s_binary], out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void AFlagWithoutItsValue_IsRefused()
    {
        Assert.Null(RunOptionsParser.TryParse(["--binary", s_binary, "--seed"], out string? error));
        Assert.Equal("--seed needs a value", error);
    }
}
