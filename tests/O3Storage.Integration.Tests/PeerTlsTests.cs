using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The guide's "Generate Cluster Certificates" run as written (addresses changed), each node given its own
/// three files as "Deploy Certificates" does: the nodes talk Raft over mutual TLS, and a node whose
/// certificate comes from another CA is never added, with a log line on the leader that says why.
/// </summary>
public sealed class PeerTlsTests(ITestOutputHelper output)
{
    private const int Subnet = 77;

    /// <summary>The guide's certificate lines in <paramref name="directory"/>; the CA's prompts answered with their defaults.</summary>
    private async Task GenerateAsync(TestCluster cluster, string directory)
    {
        Directory.CreateDirectory(directory);
        string script = GuideShell.Localize(File.ReadAllText(Path.Combine(NodeBinary.RepositoryRoot, "tests", "guide", "generate-certificates.sh")), cluster);
        File.WriteAllText(Path.Combine(directory, "generate-certificates.sh"), script);
        (int exit, string printed) = await GuideShell.RunAsync($"cd '{directory}' && yes '' | bash generate-certificates.sh", output);
        Assert.True(exit == 0, printed);
    }

    /// <summary>"Deploy Certificates": node N's directory gets ca-cert.pem, node-N-cert.pem and node-N-key.pem, mode 600.</summary>
    private static string Deploy(string generated, string root, int node)
    {
        string certs = Path.Combine(root, $"certs-{node}");
        Directory.CreateDirectory(certs);
        foreach (string file in new[] { "ca-cert.pem", $"node-{node}-cert.pem", $"node-{node}-key.pem" })
        {
            File.Copy(Path.Combine(generated, file), Path.Combine(certs, file));
            File.SetUnixFileMode(Path.Combine(certs, file), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return certs;
    }

    /// <summary>
    /// A member that was down while the others took more entries than a snapshot interval (4096) is behind
    /// the leader's last snapshot. The leader sends it a reference, and it fetches the snapshot over the
    /// API with its certificate (DotNext's own InstallSnapshot must arrive and install within the Raft
    /// request timeout, 2 s, which a large snapshot never does). A member's address without the
    /// certificate is refused the snapshot: it holds every key and object name of the cluster.
    /// </summary>
    [Fact]
    public async Task AMemberBehindTheLeadersSnapshot_FetchesItOverMutualTls_AndAPlainCallerCannot()
    {
        const int subnet = 89;
        using var cluster = new TestCluster(subnet, output);
        string generated = Path.Combine(cluster.Root, "generated");
        await GenerateAsync(cluster, generated);
        string[] certs = [.. new[] { 1, 2, 3 }.Select(node => Deploy(generated, cluster.Root, node))];
        cluster.Bootstrap(1, "--certs", certs[0]);
        await cluster.WaitForActiveNodesAsync([1], 1);
        cluster.Join(2, cluster.Peers(1), "--certs", certs[1]);
        cluster.Join(3, cluster.Peers(1), "--certs", certs[2]);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        await cluster.WaitUntilAsync("the cluster reads snapshot references (metadata level 5)", () =>
            Task.FromResult(new[] { 1, 2, 3 }.Any(n => cluster.Process(n).Stdout.Contains("cluster metadata level 5 in force", StringComparison.Ordinal))));

        cluster.Kill(3);
        await cluster.WaitForAgreedLeaderAsync([1, 2]);
        var work = new Workload(cluster, "behind");
        await work.SeedAsync([1, 2], count: 60);
        // More entries than a snapshot interval, so both take a snapshot: one at a time (concurrent writes share entries).
        using var http = new HttpClient();
        for (int i = 0; i < 4200; i++)
        {
            using HttpResponseMessage put = await http.PutAsync($"http://{cluster.NodeId(1 + (i % 2))}/behind/small/{i:D4}", new ByteArrayContent([(byte)i]));
            Assert.True(put.IsSuccessStatusCode, $"small/{i:D4}: {put.StatusCode}");
        }

        cluster.Start(3, "--peers", cluster.Peers(1, 2), "--certs", certs[2]);
        await cluster.WaitUntilAsync("node 3 fetched the leader's snapshot", () =>
            Task.FromResult(cluster.Process(3).Stdout.Contains("fetched the metadata snapshot", StringComparison.Ordinal)));
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        await work.VerifyAsync([3]);
        await work.AssertNodesAgreeAsync([1, 2, 3]);
        foreach (int i in new[] { 0, 2099, 4199 })
        {
            using HttpResponseMessage get = await http.GetAsync($"http://{cluster.NodeId(3)}/behind/small/{i:D4}");
            Assert.Equal((byte)i, Assert.Single(await get.Content.ReadAsByteArrayAsync()));
        }

        using var fromMemberAddress = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(cluster.Ip(2)), 0));
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        });
        using HttpResponseMessage refused = await fromMemberAddress.GetAsync($"http://{cluster.NodeId(1)}/internal/raft/snapshot?min=1");
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Fact]
    public async Task TheGuidesCertificates_TheClusterRunsOnMutualTls_ANodeOfAnotherCaIsRefused_AndTheLeaderSaysWhy()
    {
        using var cluster = new TestCluster(Subnet, output);
        string generated = Path.Combine(cluster.Root, "generated");
        await GenerateAsync(cluster, generated);

        cluster.Bootstrap(1, "--certs", Deploy(generated, cluster.Root, 1));
        await cluster.WaitForActiveNodesAsync([1], 1);
        cluster.Join(2, cluster.Peers(1), "--certs", Deploy(generated, cluster.Root, 2));
        cluster.Join(3, cluster.Peers(1), "--certs", Deploy(generated, cluster.Root, 3));
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);

        foreach (int node in new[] { 1, 2, 3 })
        {
            System.Text.Json.JsonElement tls = (await cluster.HealthAsync(node)).GetProperty("auth").GetProperty("peer_tls");
            Assert.Equal("mutual", tls.GetProperty("mode").GetString());
            Assert.Equal($"CN={cluster.Ip(node)}", tls.GetProperty("certificate").GetString());
            Assert.Equal("O=Internet Widgits Pty Ltd, S=Some-State, C=AU", tls.GetProperty("authority").GetString());
            Assert.Contains($"mutual TLS between nodes on {cluster.Ip(node)}:8090: this node presents CN={cluster.Ip(node)}", cluster.Process(node).Stdout, StringComparison.Ordinal);
        }

        var work = new Workload(cluster, "tls");
        await work.SeedAsync([1, 2, 3], count: 60);
        await work.VerifyAsync([1, 2, 3]);

        // Node 4 with the guide's commands run again elsewhere: a certificate of another CA, CN = its address.
        string other = Path.Combine(cluster.Root, "other-ca");
        await GenerateAsync(cluster, other);
        string otherCerts = Path.Combine(cluster.Root, "certs-4");
        Directory.CreateDirectory(otherCerts);
        File.Copy(Path.Combine(other, "ca-cert.pem"), Path.Combine(otherCerts, "ca-cert.pem"));
        // Its own certificate for 127.77.0.4, from the other CA, made as the guide's loop makes node certificates.
        (int made, string madePrinted) = await GuideShell.RunAsync(
            $"cd '{other}' && openssl genrsa -out node-4-key.pem 2048 && openssl req -new -key node-4-key.pem -out node-4.csr -subj /CN={cluster.Ip(4)} && openssl x509 -req -days 365 -in node-4.csr -CA ca-cert.pem -CAkey ca-key.pem -out node-4-cert.pem -CAcreateserial && cp node-4-cert.pem node-4-key.pem '{otherCerts}/' && chmod 600 '{otherCerts}'/*.pem",
            output);
        Assert.True(made == 0, madePrinted);

        NodeProcess outsider = cluster.Join(4, cluster.Peers(1), "--certs", otherCerts, "--join-timeout", "15");
        Assert.NotEqual(0, await outsider.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        output.WriteLine(outsider.Stderr);
        Assert.Contains("no peer answered", outsider.Stderr, StringComparison.Ordinal);
        Assert.Contains("TLS refused", outsider.Stderr, StringComparison.Ordinal);
        Assert.Contains($"refused a connection to node {cluster.Ip(1)}: its certificate (CN={cluster.Ip(1)}", outsider.Stdout, StringComparison.Ordinal);
        string leader = cluster.Process(1).Stdout;
        Assert.Contains($"refused a connection on the API port from {cluster.Ip(4)}: ", leader, StringComparison.Ordinal);
        Assert.Single(leader.Split('\n'), line => line.Contains($"refused a connection on the API port from {cluster.Ip(4)}: ", StringComparison.Ordinal)); // once a minute, however often it retries
        // Both CAs have openssl's default name: the line says it is another key.
        Assert.Contains($"its certificate (CN={cluster.Ip(4)}, issued by O=Internet Widgits Pty Ltd, S=Some-State, C=AU, expires {DateTime.UtcNow.AddDays(365):yyyy-MM-dd}) is signed by a different CA with the same name as this cluster's CA (O=Internet Widgits Pty Ltd, S=Some-State, C=AU)", leader, StringComparison.Ordinal);
        Assert.Equal(3, (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("total_nodes").GetInt32());

        // An internal call from a member's address but without its certificate (plain HTTP, no key needed
        // with authentication off before certificates): refused.
        using (var fromMemberAddress = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, token) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
                socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(cluster.Ip(2)), 0));
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        }))
        {
            using HttpResponseMessage forged = await fromMemberAddress.PostAsync($"http://{cluster.NodeId(1)}/internal/propose", new ByteArrayContent([1, 4, 0]));
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, forged.StatusCode);
        }

        // HTTPS on the same port for clients without a certificate (S3, curl --cacert ca-cert.pem), plain HTTP too.
        using (var https = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new System.Net.Security.SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.Subject == $"CN={cluster.Ip(1)}",
            },
        }))
        {
            using HttpResponseMessage health = await https.GetAsync($"https://{cluster.NodeId(1)}/health");
            Assert.Equal(System.Net.HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("mutual", System.Text.Json.JsonDocument.Parse(await health.Content.ReadAsStringAsync()).RootElement.GetProperty("auth").GetProperty("peer_tls").GetProperty("mode").GetString());
        }

        // A connection that sends nothing is closed (Kestrel's own timeouts start only after the TLS-or-plain choice).
        using (var idle = new System.Net.Sockets.TcpClient())
        {
            await idle.ConnectAsync(System.Net.IPAddress.Parse(cluster.Ip(1)), 8080);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var stopwatch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                Assert.Equal(0, await idle.GetStream().ReadAsync(new byte[1], wait.Token));
            }
            catch (IOException)
            {
                // reset instead of closed: dropped all the same
            }

            output.WriteLine($"an idle connection was dropped after {stopwatch.Elapsed.TotalSeconds:0.0} s");
        }

        await work.VerifyAsync([1, 2, 3]);
    }
}
