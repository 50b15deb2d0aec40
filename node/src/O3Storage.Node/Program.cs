using System.Diagnostics;
using System.Net.Sockets;
using O3Storage.Node.Auth;
using O3Storage.Node.CommandLine;
using O3Storage.Node.Hosting;
using O3Storage.Provisioning;

namespace O3Storage.Node;

public static class Program
{
#if O3STORAGE_NEXT_LEVEL_TEST
    public static string Version => ThisAssembly.AssemblyInformationalVersion + ".next-level-test";
#else
    public static string Version => ThisAssembly.AssemblyInformationalVersion;
#endif

    public static async Task<int> Main(string[] args)
    {
        var uptime = Stopwatch.StartNew();
        switch (CommandLineParser.Parse(args))
        {
            case ParseResult.ShowHelp:
                Console.Out.WriteLine(CommandLineParser.Usage);
                return 0;
            case ParseResult.ShowVersion:
                Console.Out.WriteLine($"o3storage {Version}");
                return 0;
            case ParseResult.Maintain maintain:
                try
                {
                    return Maintenance.Run(maintain, Console.Out);
                }
                catch (StartupException e)
                {
                    Console.Error.WriteLine($"o3storage: {e.Message}");
                    return 1;
                }

            case ParseResult.ListKeys list:
                if (ApiKeys.TryLoad(list.ApiKeysPath, out string? keysError) is not { } keys)
                {
                    Console.Error.WriteLine($"o3storage: {keysError}");
                    return 1;
                }

                foreach (ApiKey key in keys.Keys)
                {
                    Console.Out.WriteLine($"{ApiKeys.RoleName(key.Role)} {key.AccessKeyId}");
                }

                return 0;

            case ParseResult.CheckBootConfig check:
                try
                {
                    // Every printed value matched a strict pattern (names, IPv4), so single quotes are safe.
                    BootConfig config = BootConfig.Load(check.Path);
                    Console.Out.WriteLine($"O3_CLUSTER_NAME='{config.ClusterName}'");
                    Console.Out.WriteLine($"O3_EXPECTED_NODES={config.ExpectedNodes}");
                    Console.Out.WriteLine($"O3_JOIN_TOKEN_SET={(config.IsOpen ? "no" : "yes")}");
                    Console.Out.WriteLine($"O3_HOSTNAME='{config.Hostname}'");
                    Console.Out.WriteLine($"O3_ADDRESS='{config.Address}'");
                    Console.Out.WriteLine($"O3_GATEWAY='{config.Address?.Gateway}'");
                    Console.Out.WriteLine($"O3_DNS='{string.Join(' ', config.Address?.Dns ?? [])}'");
                    Console.Out.WriteLine($"O3_LOCAL_NETWORKS4='{string.Join(' ', config.LocalNetworks.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetwork))}'");
                    Console.Out.WriteLine($"O3_LOCAL_NETWORKS6='{string.Join(' ', config.LocalNetworks.Where(n => n.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6))}'");
                    return 0;
                }
                catch (BootConfigException e)
                {
                    Console.Error.WriteLine($"o3storage: {e.Message}");
                    return 1;
                }

            case ParseResult.Error error:
                Console.Error.WriteLine($"o3storage: {error.Message} (see --help)");
                return 2;
            case ParseResult.Run run:
                try
                {
                    return await new NodeHost(run.Options, Version, uptime).RunAsync().ConfigureAwait(false);
                }
                catch (StartupException e)
                {
                    Console.Error.WriteLine($"o3storage: {e.Message}");
                    return 1;
                }
                catch (Exception e)
                {
                    // A defect, not an operating error: keep the whole trace for the bug report.
                    Console.Error.WriteLine($"o3storage: fatal: {e}");
                    return 70;
                }

            default:
                throw new UnreachableException();
        }
    }
}
