using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// A cluster without the guide's certificates: the bootstrap node makes the cluster's CA and a join token,
/// a joining node proves the token to get the CA (enrolment) and issues itself a certificate, and from then
/// on every node-to-node path is mutual TLS, as with the guide's certificates. Attacks on enrolment change
/// nothing. The protocol is spoken here from its description (docs/security.md), not with the node's code.
/// </summary>
public sealed class ClusterCaTests(ITestOutputHelper output)
{
    private const int Subnet = 79;

    [Fact]
    public async Task ABootstrapMakesTheCaAndAToken_AJoinerWithoutOrWithAWrongTokenIsRefused_WithItTheClusterRunsOnMutualTls()
    {
        using var cluster = new TestCluster(Subnet, output) { JoinTokenFile = null };
        NodeProcess first = cluster.Bootstrap(1);
        await cluster.WaitForActiveNodesAsync([1], 1);

        string tokenFile = Path.Combine(cluster.DataDirectory(1), "certs", "join-token");
        Assert.Matches("^o3t1-[0-9a-f]{32}$", File.ReadAllText(tokenFile).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(cluster.DataDirectory(1), "certs", "ca-key.pem")));
        Assert.Contains($"JOIN TOKEN: nodes joining this cluster with --peers must prove its join token; it is in {tokenFile}", first.Stdout, StringComparison.Ordinal);

        // No token: refused before anything is sent, with what to do.
        NodeProcess without = cluster.Join(2, cluster.Peers(1));
        Assert.Equal(1, await without.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Contains("admits nodes that prove its join token, and this node has none: copy DATA/certs/join-token from a member", without.Stderr, StringComparison.Ordinal);

        // A wrong token: the member refuses the enrolment and says why, on both sides.
        string wrong = Path.Combine(cluster.Root, "wrong-token");
        File.WriteAllText(wrong, "o3t1-00000000000000000000000000000000\n");
        NodeProcess guessing = cluster.Join(2, cluster.Peers(1), "--join-token-file", wrong);
        Assert.Equal(1, await guessing.WaitForExitAsync(TestCluster.WaitTimeout));
        Assert.Contains("enrolment with", guessing.Stderr, StringComparison.Ordinal);
        Assert.Contains("wrong join token", guessing.Stderr, StringComparison.Ordinal);
        Assert.Contains("refuses to enrol", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, (await cluster.HealthAsync(1)).GetProperty("cluster").GetProperty("active_nodes").GetInt32());

        // The token copied as the log says: both join, on certificates of the bootstrap node's CA.
        string copied = Path.Combine(cluster.Root, "copied-token");
        File.Copy(tokenFile, copied);
        cluster.Join(2, cluster.Peers(1), "--join-token-file", copied);
        cluster.Join(3, cluster.Peers(1), "--join-token-file", copied);
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        string authority = File.ReadAllText(Path.Combine(cluster.DataDirectory(1), "certs", "ca-cert.pem"));
        foreach (int node in new[] { 1, 2, 3 })
        {
            JsonElement tls = (await cluster.HealthAsync(node)).GetProperty("auth").GetProperty("peer_tls");
            Assert.Equal("mutual", tls.GetProperty("mode").GetString());
            Assert.Equal($"CN={cluster.Ip(node)}, O=O3StorageOS", tls.GetProperty("certificate").GetString());
            Assert.StartsWith("CN=o3storage cluster CA ", tls.GetProperty("authority").GetString(), StringComparison.Ordinal);
            Assert.Equal(authority, File.ReadAllText(Path.Combine(cluster.DataDirectory(node), "certs", "ca-cert.pem")));
            Assert.Contains("mutual TLS between nodes with this cluster's own CA", cluster.Process(node).Stdout, StringComparison.Ordinal);
        }

        // Any member admits the next node (every member holds the CA), and a restarted member keeps its certificate.
        cluster.Kill(1);
        cluster.Start(1, "--peers", cluster.Peers(2, 3));
        await cluster.WaitForActiveNodesAsync([1, 2, 3], 3);
        cluster.Join(4, cluster.Peers(3), "--join-token-file", copied);
        await cluster.WaitForActiveNodesAsync([1, 2, 3, 4], 4);
    }

    [Fact]
    public async Task Enrolment_IsRefusedInPlain_ReplayedOrPassedOnByAManInTheMiddle_AndChangesNothing()
    {
        using var cluster = new TestCluster(Subnet, output);
        cluster.Bootstrap(1);
        await cluster.WaitForActiveNodesAsync([1], 1);
        string token = File.ReadAllText(cluster.JoinTokenFile!).Trim();
        string nodeId = $"{cluster.Ip(2)}:8080";
        var uuid = Guid.NewGuid();

        using var plain = new HttpClient();
        using HttpResponseMessage inPlain = await plain.PostAsJsonAsync($"http://{cluster.NodeId(1)}/internal/enroll", new { node_id = nodeId, uuid, challenge = "c", proof = "p" });
        Assert.Equal(HttpStatusCode.BadRequest, inPlain.StatusCode);
        Assert.Contains("enrolment goes over TLS", await inPlain.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A ping without the cluster's certificate learns which cluster answers and how to get a certificate,
        // nothing a Raft forger would want.
        JsonElement ping = await plain.GetFromJsonAsync<JsonElement>($"http://{cluster.NodeId(1)}/internal/ping");
        Assert.Equal(("cluster-ca", 0, JsonValueKind.Null, JsonValueKind.Null), (ping.GetProperty("certificates").GetString(), ping.GetProperty("term").GetInt64(), ping.GetProperty("leader").ValueKind, ping.GetProperty("version").ValueKind));

        // A plain join, from an address that is no member's, with no certificate: refused.
        using HttpResponseMessage join = await plain.PostAsJsonAsync($"http://{cluster.NodeId(1)}/internal/join", new { node_id = nodeId, cluster_endpoint = $"{cluster.Ip(2)}:8090", uuid });
        Assert.Equal(HttpStatusCode.Forbidden, join.StatusCode);
        Assert.Contains("gets one by proving the join token first", await join.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        byte[]? memberCertificate = null;
        using var tls = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => (memberCertificate = SHA256.HashData(certificate!.GetRawCertData())) is not null },
        });
        byte[] key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(token), "o3storage-join-token:v2:o3storage"u8, 600_000, HashAlgorithmName.SHA256, 32);
        string Proof(string challenge, byte[] certificate) => Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"o3storage-enroll:v1:{challenge}:{nodeId}:{uuid:D}:{Convert.ToHexStringLower(certificate)}")));
        async Task<string> ChallengeAsync()
        {
            using HttpResponseMessage response = await tls.PostAsync($"https://{cluster.NodeId(1)}/internal/enroll/challenge", null);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("challenge").GetString()!;
        }

        // The real thing, to show the attacks below fail for their own reasons: the sealed CA opens with the token.
        string challenge = await ChallengeAsync();
        object request = new { node_id = nodeId, uuid, challenge, proof = Proof(challenge, memberCertificate!) };
        using (HttpResponseMessage enrolled = await tls.PostAsJsonAsync($"https://{cluster.NodeId(1)}/internal/enroll", request))
        {
            Assert.Equal(HttpStatusCode.OK, enrolled.StatusCode);
            byte[] sealedBytes = Convert.FromBase64String((await enrolled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sealed").GetString()!);
            byte[] plaintext = new byte[sealedBytes.Length - 28];
            using var aes = new AesGcm(HMACSHA256.HashData(key, "o3storage-seal-key:v1"u8), 16);
            aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), plaintext, Encoding.UTF8.GetBytes(Proof(challenge, memberCertificate!)));
            Assert.Contains("BEGIN PRIVATE KEY", Encoding.UTF8.GetString(plaintext), StringComparison.Ordinal);
        }

        // The same request again: its challenge is used up.
        using (HttpResponseMessage replayed = await tls.PostAsJsonAsync($"https://{cluster.NodeId(1)}/internal/enroll", request))
        {
            Assert.Equal(HttpStatusCode.Forbidden, replayed.StatusCode);
            Assert.Contains("the challenge is unknown, used or expired", await replayed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A proof made for a man in the middle's certificate, passed on to the member: refused.
        string fresh = await ChallengeAsync();
        using (HttpResponseMessage relayed = await tls.PostAsJsonAsync($"https://{cluster.NodeId(1)}/internal/enroll", new { node_id = nodeId, uuid, challenge = fresh, proof = Proof(fresh, SHA256.HashData("the man in the middle's certificate"u8)) }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, relayed.StatusCode);
            Assert.Contains("wrong join token", await relayed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // A made-up challenge, and a body too large: refused, and the member still has one member.
        using (HttpResponseMessage madeUp = await tls.PostAsJsonAsync($"https://{cluster.NodeId(1)}/internal/enroll", new { node_id = nodeId, uuid, challenge = "00", proof = Proof("00", memberCertificate!) }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, madeUp.StatusCode);
        }

        using (HttpResponseMessage large = await tls.PostAsync($"https://{cluster.NodeId(1)}/internal/enroll", new StringContent(new string('x', 100_000))))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        }

        // A flood of refused joins under made-up node ids: each refused, the log told once a minute per caller and kind.
        string logged = cluster.Process(1).Stdout;
        for (int i = 0; i < 50; i++)
        {
            using HttpResponseMessage flooded = await plain.PostAsJsonAsync($"http://{cluster.NodeId(1)}/internal/join", new { node_id = $"{cluster.Ip(2)}:{9000 + i}", cluster_endpoint = $"{cluster.Ip(2)}:8090", uuid = Guid.NewGuid() });
            Assert.Equal(HttpStatusCode.Forbidden, flooded.StatusCode);
        }

        string[] refusals = [.. cluster.Process(1).Stdout[logged.Length..].Split('\n').Where(line => line.Contains("[2004]", StringComparison.Ordinal))];
        Assert.True(refusals.Length <= 1, $"{refusals.Length} log lines for 50 refusals of one kind from one caller: {string.Join(" | ", refusals)}");

        JsonElement health = await cluster.HealthAsync(1);
        Assert.Equal(1, health.GetProperty("cluster").GetProperty("active_nodes").GetInt32());
    }

    [Fact]
    public async Task ACapture_OfTheLan_ShowsNoObjectByteKeyOrSignature_BetweenNodesNorToAnHttpsClient()
    {
        using var keys = new KeyFile();
        using TestCluster cluster = await TestCluster.StartAsync(Subnet, 3, output, "--api-keys", keys.Path);
        using AmazonS3Client s3 = KeyFile.Client(cluster, 1, keys.Admin);
        await s3.PutBucketAsync("capture");
        string pcap = Path.Combine(cluster.Root, "lan.pcap");
        using Process tcpdump = Process.Start(new ProcessStartInfo("tcpdump", ["-i", "lo", "--immediate-mode", "-U", "-s", "0", "-w", pcap, "net", $"{cluster.Ip(0)}/24"]) { RedirectStandardError = true })!;
        string? listening = await tcpdump.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("listening on lo", listening, StringComparison.Ordinal);

        // An HTTPS client that trusts the cluster's CA (as the aws CLI does with --ca-bundle), presigned URLs.
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(cluster.DataDirectory(1), "certs", "ca-cert.pem")));
        using var https = new HttpClient(new SocketsHttpHandler
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(authority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return certificate is not null && chain.Build(new X509Certificate2(certificate));
                },
            },
        });
        string Presign(HttpVerb verb, string key, int node)
        {
            // SigV4 signs the host, not the scheme: a URL presigned for http:// works over https://.
            using AmazonS3Client signer = KeyFile.Client(cluster, node, keys.Admin);
            return signer.GetPreSignedURL(new GetPreSignedUrlRequest { BucketName = "capture", Key = key, Verb = verb, Expires = DateTime.UtcNow.AddMinutes(10), Protocol = Protocol.HTTP })
                .Replace("http://", "https://", StringComparison.Ordinal);
        }

        string secretMarker = $"SECRET-OBJECT-{Guid.NewGuid():N}";
        byte[] secret = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(secretMarker + "\n", 4000)));
        string put = Presign(HttpVerb.PUT, "secret", 1);
        using (HttpResponseMessage written = await https.PutAsync(put, new ByteArrayContent(secret)))
        {
            Assert.Equal(HttpStatusCode.OK, written.StatusCode);
        }

        // Read back through another node, which fetches what it lacks from its peers over TLS.
        Assert.Equal(secret, await https.GetByteArrayAsync(Presign(HttpVerb.GET, "secret", 2)));
        Assert.Equal(secret, await https.GetByteArrayAsync(Presign(HttpVerb.GET, "secret", 3)));

        // The control: the same over plain HTTP is seen, so the capture would have shown it.
        string plainMarker = $"PLAIN-OBJECT-{Guid.NewGuid():N}";
        using (var plain = new HttpClient())
        using (HttpResponseMessage written = await plain.PutAsync(Presign(HttpVerb.PUT, "plain", 1).Replace("https://", "http://", StringComparison.Ordinal), new ByteArrayContent(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(plainMarker + "\n", 100))))))
        {
            Assert.Equal(HttpStatusCode.OK, written.StatusCode);
        }

        await Task.Delay(1500); // replication to the other holders finishes in the background; tcpdump writes what it saw
        Process.Start("kill", ["-INT", tcpdump.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.True(tcpdump.WaitForExit(30_000));
        string captured = Encoding.Latin1.GetString(File.ReadAllBytes(pcap));
        output.WriteLine($"captured {captured.Length} bytes");

        Assert.Contains(plainMarker, captured, StringComparison.Ordinal);
        Assert.DoesNotContain(secretMarker, captured, StringComparison.Ordinal);
        Assert.DoesNotContain(System.Web.HttpUtility.ParseQueryString(new Uri(put).Query)["X-Amz-Signature"]!, captured, StringComparison.Ordinal);
        Assert.DoesNotContain(keys.Admin, captured, StringComparison.Ordinal);
        Assert.True(captured.Length > 3 * secret.Length, "the object crossed the LAN at least three times (to two holders, and back to the client), encrypted");
    }
}
