using O3Storage.Ctl;
using O3Storage.Ctl.Settings;

namespace O3Storage.Ctl.Tests;

public sealed class CtlSettingsTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    private static CtlSettings Resolve(string[]? flags = null, string? key = null, Func<string, string?>? env = null, string? config = null, bool othersMayRead = false) =>
        CtlSettings.Resolve(flags ?? [], key, null, env ?? Env(), "/home/u/.config/o3ctl/config", config, othersMayRead);

    [Fact]
    public void Resolve_NothingGiven_AsksMakeRunsFirstNodeWithoutKey()
    {
        CtlSettings settings = Resolve();
        Assert.Equal([new Uri("http://127.0.0.1:8080/")], settings.Endpoints);
        Assert.Null(settings.Key);
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void Resolve_FlagBeatsEnvironmentBeatsConfigFile()
    {
        string config = "# o3ctl\nendpoint = 10.0.0.1\nkey = from-file\n";
        var env = Env((CtlSettings.EndpointVariable, "10.0.0.2"), (CtlSettings.KeyVariable, "from-env"));
        Assert.Equal(("10.0.0.1", "from-file"), Pick(Resolve(config: config)));
        Assert.Equal(("10.0.0.2", "from-env"), Pick(Resolve(env: env, config: config)));
        Assert.Equal(("10.0.0.3", "from-flag"), Pick(Resolve(flags: ["10.0.0.3"], key: "from-flag", env: env, config: config)));

        static (string, string?) Pick(CtlSettings s) => (s.Endpoints[0].Host, s.Key);
    }

    [Fact]
    public void Resolve_SeveralEndpoints_RepeatedOrCommaSeparated_KeptInOrder()
    {
        CtlSettings settings = Resolve(flags: ["10.0.0.1,10.0.0.2", "10.0.0.3:9000"]);
        Assert.Equal(["http://10.0.0.1:8080/", "http://10.0.0.2:8080/", "http://10.0.0.3:9000/"], settings.Endpoints.Select(u => u.ToString()));
    }

    [Theory]
    [InlineData("192.168.1.101", "http://192.168.1.101:8080/")]
    [InlineData("192.168.1.101:9000", "http://192.168.1.101:9000/")]
    [InlineData("https://192.168.1.101", "https://192.168.1.101:8080/")]
    [InlineData("https://192.168.1.101:443/", "https://192.168.1.101/")]
    [InlineData("[fd00::1]", "http://[fd00::1]:8080/")]
    [InlineData("[fd00::1]:8081", "http://[fd00::1]:8081/")]
    [InlineData("node1.lan", "http://node1.lan:8080/")]
    public void ParseEndpoint_PortLeftOut_IsTheNodesApiPort(string given, string expected) =>
        Assert.Equal(expected, CtlSettings.ParseEndpoint(given).ToString());

    [Theory]
    [InlineData("ftp://192.168.1.101")]
    [InlineData("192.168.1.101/admin")]
    [InlineData("http://user:pw@192.168.1.101")]
    [InlineData("http://192.168.1.101?x=1")]
    [InlineData("http://")]
    public void ParseEndpoint_NotANode_IsAUsageError(string given)
    {
        CtlException e = Assert.Throws<CtlException>(() => CtlSettings.ParseEndpoint(given));
        Assert.Equal(ExitCode.Usage, e.Code);
    }

    [Fact]
    public void ParseConfig_MistypedName_ErrorNamesTheLineButNeverEchoesTheValue()
    {
        CtlException e = Assert.Throws<CtlException>(() => Resolve(config: "endpoint = 10.0.0.1\nkye = s3cr3t-value\n"));
        Assert.Equal(ExitCode.Usage, e.Code);
        Assert.Contains("line 2: 'kye'", e.Message);
        Assert.DoesNotContain("s3cr3t", e.Message + e.Detail);

        CtlException noEquals = Assert.Throws<CtlException>(() => Resolve(config: "s3cr3t-value\n"));
        Assert.Contains("line 1 has no '='", noEquals.Message);
        Assert.DoesNotContain("s3cr3t", noEquals.Message + noEquals.Detail);
    }

    [Fact]
    public void Resolve_KeyFromAFileOthersMayRead_Warns_KeyFromElsewhere_DoesNot()
    {
        Assert.Contains("chmod 600", Assert.Single(Resolve(config: "key = k\n", othersMayRead: true).Warnings));
        Assert.Empty(Resolve(config: "key = k\n", othersMayRead: false).Warnings);
        Assert.Empty(Resolve(env: Env((CtlSettings.KeyVariable, "k")), config: "key = k\n", othersMayRead: true).Warnings);
        Assert.Empty(Resolve(config: "endpoint = 10.0.0.1\n", othersMayRead: true).Warnings);
    }

    [Fact]
    public void DefaultConfigPath_FollowsXdgConfigHome()
    {
        Assert.Equal("/home/u/.config/o3ctl/config", CtlSettings.DefaultConfigPath(Env(("HOME", "/home/u"))));
        Assert.Equal("/xdg/o3ctl/config", CtlSettings.DefaultConfigPath(Env(("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/xdg"))));
    }
}
