using System.Text;
using System.Text.Json;
using CsCheck;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Admin;
using O3Storage.Node.Auth;
using O3Storage.Node.CommandLine;
using O3Storage.Node.S3;
using O3Storage.Node.Transport;
using O3Storage.Provisioning;
using O3Storage.Tests.Fuzzing;

namespace O3Storage.Node.Tests.Fuzz;

/// <summary>
/// Fuzzing (<see cref="Fuzzing"/>) of every parser that reads what the network or the boot partition
/// sends. The property: each input is answered with a value or the parser's own refusal (null with a
/// reason, or its documented exception), never another exception. The storage format's are fuzzed in
/// O3Storage.Storage.Tests.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ParserFuzzTests
{
    private static Gen<byte[]> Inputs(params string[] seeds) => Fuzzing.Inputs(seeds);

    private static Gen<byte[]> Inputs(params byte[][] seeds) => Fuzzing.Inputs(seeds);

    private static void Fuzz(Gen<byte[]> inputs, Action<byte[]> parse) => Fuzzing.Run(inputs, parse);

    private static ApiKeys Keys() =>
        ApiKeys.TryParse("read-write:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY:AKIAIOSFODNN7EXAMPLE\nadmin:" + new string('f', 40) + "\n", "test", out string? error) ?? throw new InvalidOperationException(error);

    [Fact]
    public void BootConfig_o3storageTxt() =>
        Fuzz(Inputs("cluster_name=shop\njoin_token=3f9c1e0b8a7d4c2e9f1a6b5d7c8e0f12\nexpected_nodes=3\nhostname=o3-a\naddress=192.168.1.50/24\ngateway=192.168.1.1\ndns=192.168.1.1\n", "\uFEFF# note\r\ncluster_name = \"home\" # mine\r\n"), bytes =>
        {
            BootConfig? config = BootConfig.TryParse(Encoding.UTF8.GetString(bytes), out IReadOnlyList<string> errors);
            Assert.True(config is not null || errors.Count > 0);
        });

    [Fact]
    public void ClusterJson() =>
        Fuzz(Inputs("{\"cluster_id\":\"prod\",\"nodes\":[{\"id\":\"node-1\",\"address\":\"192.168.1.101:8080\",\"role\":\"leader\"},{\"id\":\"node-2\",\"address\":\"192.168.1.102:8080\",\"role\":\"follower\"}],\"replication_factor\":3,\"consistency_level\":\"strong\"}"), bytes =>
        {
            bool parsed = ClusterConfig.TryParse(bytes, "cluster.json", 8080, out ClusterConfig? config, out string? error);
            Assert.True(parsed ? config is not null : error is not null);
        });

    [Fact]
    public void ApiKeysTxt() =>
        Fuzz(Inputs("admin:" + new string('a', 64) + "\nread-write:" + new string('b', 64) + ":AKIAIOSFODNN7EXAMPLE\n# comment\nread-only:" + new string('c', 64) + "\n"), bytes =>
        {
            ApiKeys? keys = ApiKeys.TryParse(Encoding.UTF8.GetString(bytes), "api-keys.txt", out string? error);
            Assert.True(keys is not null || error is not null);
        });

    [Fact]
    public void AdminJsonAndFormBodies() =>
        Fuzz(Inputs("{\"node_id\":\"192.168.1.103\",\"force\":true}", "{\"enabled\":true,\"reason\":\"Hardware upgrade\"}", "{\"name\":\"snap-1\",\"nodes\":[1,2]}", "node_id=192.168.1.103&force=true"), bytes =>
        {
            foreach (string? type in new[] { "application/json", "application/x-www-form-urlencoded", null })
            {
                AdminBody? body = AdminBody.Parse(bytes, type, ["node_id", "force", "enabled", "reason", "name"], out AdminError? error);
                Assert.True(body is not null || error is not null);
            }
        });

    [Fact]
    public void NodeToNodeJsonBodies() =>
        Fuzz(Inputs("{\"node_id\":\"192.168.1.104:8080\",\"cluster_endpoint\":\"192.168.1.104:8090\",\"uuid\":\"6a1f1f4e-8c1d-4a51-9d43-0f6b8f6c2a10\",\"token_proof\":null,\"metadata_level\":2}", "{\"node_id\":\"10.0.0.2:8080\",\"uuid\":\"00000000-0000-0000-0000-000000000000\",\"challenge\":\"00ff\",\"proof\":\"abcd\"}", "{\"sealed\":\"AAAA\"}"), bytes =>
        {
            try
            {
                _ = JsonSerializer.Deserialize(bytes, InternalJsonContext.Default.JoinRequest);
                _ = JsonSerializer.Deserialize(bytes, InternalJsonContext.Default.EnrollRequest);
                _ = JsonSerializer.Deserialize(bytes, InternalJsonContext.Default.EnrollResponse);
                _ = JsonSerializer.Deserialize(bytes, InternalJsonContext.Default.PingResponse);
            }
            catch (JsonException)
            {
            }
        });

    [Fact]
    public void S3XmlBodies() =>
        Fuzz(Inputs(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet><Object><Key>a/b</Key></Object><Object><Key>c&amp;d</Key><VersionId>1</VersionId></Object></Delete>",
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"etag1\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"etag2\"</ETag></Part></CompleteMultipartUpload>",
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><Delete><Object><Key>&e;</Key></Object></Delete>"), bytes =>
        {
            _ = S3Xml.ParseDelete(bytes);
            _ = S3Xml.ParseCompleteMultipartUpload(bytes);
        });

    [Fact]
    public void S3RoutingAndPercentDecoding() =>
        Fuzz(Inputs("/bucket/key%20with%2Fslash?uploads", "/b/k?partNumber=1&uploadId=x", "/%E2%82%AC/%FF%", "//b//k?delete&list-type=2"), bytes =>
        {
            string text = Encoding.UTF8.GetString(bytes);
            int question = text.IndexOf('?', StringComparison.Ordinal);
            string rawPath = question < 0 ? text : text[..question];
            string rawQuery = question < 0 ? "" : text[(question + 1)..];
            string path = SigV4.PercentDecode(rawPath);
            string[] names = [.. SigV4.ParseQuery(rawQuery).Select(p => p.Name)];
            foreach (string method in new[] { "GET", "PUT", "POST", "DELETE", "HEAD", "PATCH" })
            {
                _ = S3Route.Parse(method, path.StartsWith('/') ? path : "/" + path, names, hasCopySource: bytes.Length % 2 == 0);
            }

            _ = SigV4.CanonicalUri(rawPath);
        });

    [Fact]
    public void SigV4HeaderAndPresignedRequests()
    {
        ApiKeys keys = Keys();
        var now = new DateTimeOffset(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);
        Fuzz(Inputs(
            "GET /test.txt\nAWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n20130524T000000Z",
            "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\n\n\n"), bytes =>
        {
            string[] lines = Encoding.UTF8.GetString(bytes).Split('\n');
            string[] request = lines[0].Split(' ', 2);
            string target = request.Length > 1 ? request[1] : "/";
            int question = target.IndexOf('?', StringComparison.Ordinal);
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["host"] = "examplebucket.s3.amazonaws.com",
                ["authorization"] = lines.ElementAtOrDefault(1) ?? "",
                ["x-amz-content-sha256"] = lines.ElementAtOrDefault(2) ?? "",
                ["x-amz-date"] = lines.ElementAtOrDefault(3) ?? "",
                ["range"] = "bytes=0-9",
            };
            var signed = new SigV4Request(request[0], question < 0 ? target : target[..question], question < 0 ? "" : target[(question + 1)..], name => headers.TryGetValue(name, out string? value) && value.Length > 0 ? value : null);
            if (SigV4.IsSigned(signed))
            {
                SigV4Context? context = SigV4.Verify(signed, keys, now, out SigV4Error? error);
                Assert.True(context is not null || error is not null);
            }
        });
    }

    [Fact]
    public void AwsChunkedBodies()
    {
        ApiKeys keys = Keys();
        foreach (string mode in new[] { SigV4Context.StreamingSigned, SigV4Context.StreamingUnsignedTrailer })
        {
            var context = new SigV4Context(keys.Keys[0], new byte[32], new string('0', 64), "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", mode);
            Fuzz(Inputs(
                "5;chunk-signature=" + new string('a', 64) + "\r\nhello\r\n0;chunk-signature=" + new string('b', 64) + "\r\n\r\n",
                "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n"), bytes =>
            {
                using var decoded = new AwsChunkedStream(new MemoryStream(bytes), context);
                try
                {
                    decoded.CopyTo(Stream.Null, 7);
                }
                catch (AwsChunkedException)
                {
                }
            });
        }
    }

    [Fact]
    public void MetadataRecordsAndSnapshots()
    {
        byte[][] seeds =
        [
            MetadataCodec.Encode(new CreateBucket("photos", 1_700_000_000_000)),
            MetadataCodec.Encode(new DeleteBucket("photos")),
            MetadataCodec.Encode(new SetMaintenance(new MaintenanceMode("disk swap", 1_700_000_000_000))),
            MetadataCodec.Encode(new AddMember("192.168.1.104:8080", "192.168.1.104:8090", Guid.NewGuid())),
            MetadataCodec.EncodeSnapshot(MetadataState.Empty),
        ];
        Fuzz(Inputs(seeds), bytes =>
        {
            try
            {
                _ = MetadataCodec.Decode(bytes);
            }
            catch (MetadataFormatException)
            {
            }

            try
            {
                _ = MetadataCodec.DecodeSnapshot(bytes);
            }
            catch (MetadataFormatException)
            {
            }
        });
    }
}
