using System.Text.Json;
using O3Storage.Integration.Tests.Harness;
using Xunit.Abstractions;

namespace O3Storage.Integration.Tests;

/// <summary>
/// The S3 command-line clients users have (Debian's awscli, rclone, s3cmd), unmodified, against a
/// 3-node cluster with the guide's api-keys.txt: each writes through one node and reads through another.
/// </summary>
public sealed class S3ToolTests(ITestOutputHelper output) : IDisposable
{
    private const string Aws = "/usr/bin/aws"; // Debian's awscli (a pip-installed one may come first on PATH)
    private readonly KeyFile _keys = new();
    private readonly string _work = Directory.CreateTempSubdirectory("o3-it-tools-").FullName;

    public void Dispose()
    {
        _keys.Dispose();
        Directory.Delete(_work, recursive: true);
    }

    private string WriteFile(string relative, int length, int seed)
    {
        string path = Path.Combine(_work, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(path, data);
        return path;
    }

    private static void AssertSameTree(string expected, string actual)
    {
        string[] Files(string root) => [.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal)];
        Assert.Equal(Files(expected), Files(actual));
        foreach (string file in Files(expected))
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(expected, file)), File.ReadAllBytes(Path.Combine(actual, file)));
        }
    }

    private Dictionary<string, string?> AwsEnvironment() => new()
    {
        ["AWS_ACCESS_KEY_ID"] = KeyFile.AccessKeyId(_keys.ReadWrite),
        ["AWS_SECRET_ACCESS_KEY"] = _keys.ReadWrite,
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_CONFIG_FILE"] = Path.Combine(_work, "no-aws-config"),
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(_work, "no-aws-credentials"),
        ["AWS_CA_BUNDLE"] = null,
        ["AWS_PAGER"] = string.Empty,
    };

    [Fact]
    public async Task AwsCli_CpLsSyncRm_AndS3apiMultipart()
    {
        using TestCluster cluster = await TestCluster.StartAsync(45, 3, output, "--api-keys", _keys.Path);
        Dictionary<string, string?> env = AwsEnvironment();
        string[] On(int node, params string[] args) => args[1] is "cp" or "sync"
            ? ["--endpoint-url", $"http://{cluster.NodeId(node)}", .. args[..2], "--no-progress", .. args[2..]]
            : ["--endpoint-url", $"http://{cluster.NodeId(node)}", .. args];
        string[] Api(int node, params string[] args) => ["--endpoint-url", $"http://{cluster.NodeId(node)}", .. args];

        await Tool.RunAsync(output, env, Aws, On(1, "s3", "mb", "s3://tools"));
        string big = WriteFile("up/big.bin", (20 << 20) + 7, 1); // over the CLI's 8 MiB threshold: a multipart upload
        await Tool.RunAsync(output, env, Aws, On(1, "s3", "cp", big, "s3://tools/big.bin"));
        await Tool.RunAsync(output, env, Aws, On(2, "s3", "cp", "s3://tools/big.bin", Path.Combine(_work, "down/big.bin")));
        Assert.Equal(File.ReadAllBytes(big), File.ReadAllBytes(Path.Combine(_work, "down/big.bin")));

        // A server-side copy of more than 8 MiB is a multipart copy (UploadPartCopy) in the CLI.
        await Tool.RunAsync(output, env, Aws, On(2, "s3", "cp", "s3://tools/big.bin", "s3://tools/copied.bin"));
        await Tool.RunAsync(output, env, Aws, On(3, "s3", "cp", "s3://tools/copied.bin", Path.Combine(_work, "down/copied.bin")));
        Assert.Equal(File.ReadAllBytes(big), File.ReadAllBytes(Path.Combine(_work, "down/copied.bin")));

        for (int i = 0; i < 5; i++)
        {
            WriteFile($"tree/dir{i % 2}/file {i}.txt", 1000 * (i + 1), 10 + i);
        }

        await Tool.RunAsync(output, env, Aws, On(3, "s3", "sync", Path.Combine(_work, "tree"), "s3://tools/tree"));
        string listed = await Tool.RunAsync(output, env, Aws, On(2, "s3", "ls", "--recursive", "s3://tools/tree/"));
        Assert.Equal(5, listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("tree/dir0/file 0.txt", listed, StringComparison.Ordinal);
        await Tool.RunAsync(output, env, Aws, On(1, "s3", "sync", "s3://tools/tree", Path.Combine(_work, "tree-back")));
        AssertSameTree(Path.Combine(_work, "tree"), Path.Combine(_work, "tree-back"));

        // A second sync uploads nothing; after a local delete, --delete removes it remotely.
        Assert.DoesNotContain("upload:", await Tool.RunAsync(output, env, Aws, On(2, "s3", "sync", Path.Combine(_work, "tree"), "s3://tools/tree")), StringComparison.Ordinal);
        File.Delete(Path.Combine(_work, "tree/dir1/file 1.txt"));
        await Tool.RunAsync(output, env, Aws, On(2, "s3", "sync", "--delete", Path.Combine(_work, "tree"), "s3://tools/tree"));
        Assert.Equal(4, (await Tool.RunAsync(output, env, Aws, On(3, "s3", "ls", "--recursive", "s3://tools/tree/"))).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // s3api multipart, step by step.
        string created = await Tool.RunAsync(output, env, Aws, Api(2, "s3api", "create-multipart-upload", "--bucket", "tools", "--key", "mp.bin"));
        string uploadId = JsonDocument.Parse(created).RootElement.GetProperty("UploadId").GetString()!;
        string part1 = WriteFile("parts/1", 5 << 20, 21);
        string part2 = WriteFile("parts/2", 100, 22);
        string etag1 = JsonDocument.Parse(await Tool.RunAsync(output, env, Aws, Api(1, "s3api", "upload-part", "--bucket", "tools", "--key", "mp.bin", "--part-number", "1", "--upload-id", uploadId, "--body", part1))).RootElement.GetProperty("ETag").GetString()!;
        string etag2 = JsonDocument.Parse(await Tool.RunAsync(output, env, Aws, Api(3, "s3api", "upload-part", "--bucket", "tools", "--key", "mp.bin", "--part-number", "2", "--upload-id", uploadId, "--body", part2))).RootElement.GetProperty("ETag").GetString()!;
        string parts = await Tool.RunAsync(output, env, Aws, Api(2, "s3api", "list-parts", "--bucket", "tools", "--key", "mp.bin", "--upload-id", uploadId));
        Assert.Equal(2, JsonDocument.Parse(parts).RootElement.GetProperty("Parts").GetArrayLength());
        string uploads = await Tool.RunAsync(output, env, Aws, Api(1, "s3api", "list-multipart-uploads", "--bucket", "tools"));
        Assert.Contains(uploadId, uploads, StringComparison.Ordinal);
        string layout = JsonSerializer.Serialize(new { Parts = new[] { new { ETag = etag1, PartNumber = 1 }, new { ETag = etag2, PartNumber = 2 } } });
        await Tool.RunAsync(output, env, Aws, Api(1, "s3api", "complete-multipart-upload", "--bucket", "tools", "--key", "mp.bin", "--upload-id", uploadId, "--multipart-upload", layout));
        string head = await Tool.RunAsync(output, env, Aws, Api(3, "s3api", "head-object", "--bucket", "tools", "--key", "mp.bin"));
        Assert.Equal((5 << 20) + 100, JsonDocument.Parse(head).RootElement.GetProperty("ContentLength").GetInt64());
        Assert.EndsWith("-2\"", JsonDocument.Parse(head).RootElement.GetProperty("ETag").GetString(), StringComparison.Ordinal);

        await Tool.RunAsync(output, env, Aws, On(2, "s3", "rm", "--recursive", "s3://tools/"));
        Assert.Equal(string.Empty, (await Tool.RunAsync(output, env, Aws, On(1, "s3", "ls", "--recursive", "s3://tools/"))).Trim());
        await Tool.RunAsync(output, env, Aws, On(3, "s3", "rb", "s3://tools"));
    }

    /// <summary>rclone remotes n1 and n2: nodes 1 and 2 with the read-write key, no config file.</summary>
    private Dictionary<string, string?> RcloneEnvironment(TestCluster cluster)
    {
        Dictionary<string, string?> env = new()
        {
            ["RCLONE_CONFIG"] = Path.Combine(_work, "no-rclone.conf"),
            ["AWS_CA_BUNDLE"] = null, // rclone refuses a CA bundle with its own transport
        };
        foreach (int node in new[] { 1, 2 })
        {
            string prefix = $"RCLONE_CONFIG_N{node}_";
            env[prefix + "TYPE"] = "s3";
            env[prefix + "PROVIDER"] = "Other";
            env[prefix + "ACCESS_KEY_ID"] = KeyFile.AccessKeyId(_keys.ReadWrite);
            env[prefix + "SECRET_ACCESS_KEY"] = _keys.ReadWrite;
            env[prefix + "ENDPOINT"] = $"http://{cluster.NodeId(node)}";
            env[prefix + "REGION"] = "us-east-1";
        }

        return env;
    }

    /// <summary>Keys a backup tool meets in file names: each must come back from a listing exactly as written.</summary>
    private static readonly string[] s_oddKeys =
    [
        "dir one/a+b.txt", "100%/p%20q", "line\nbreak.txt", "carriage\rreturn", "ünïcødé/日本語.txt", "plus+and space/x y",
        "tilde~/-_.txt", "a/b/c", "emoji 😀/&<>\"'.txt", "semi;colon=eq?q#h",
    ];

    [Fact]
    public async Task OddKeys_RoundTripThroughListings_WithTheAwsCliAndRclone()
    {
        using TestCluster cluster = await TestCluster.StartAsync(45, 3, output, "--api-keys", _keys.Path);
        Dictionary<string, string?> aws = AwsEnvironment();
        string[] Api(int node, params string[] args) => ["--endpoint-url", $"http://{cluster.NodeId(node)}", "s3api", .. args];
        await Tool.RunAsync(output, aws, Aws, Api(1, "create-bucket", "--bucket", "odd"));
        string body = WriteFile("body.bin", 100, 80);
        foreach (string key in s_oddKeys)
        {
            await Tool.RunAsync(output, aws, Aws, Api(1 + (Array.IndexOf(s_oddKeys, key) % 3), "put-object", "--bucket", "odd", "--key", key, "--body", body));
        }

        string[] Sorted(IEnumerable<string> keys) => [.. keys.Order(StringComparer.Ordinal)];
        static IEnumerable<string> Strings(JsonElement root, string array, string field) =>
            root.TryGetProperty(array, out JsonElement items) ? items.EnumerateArray().Select(e => e.GetProperty(field).GetString()!) : [];

        // The CLI asks for EncodingType=url and decodes what comes back; v2 pages through 3 keys at a time (continuation tokens).
        foreach (string operation in new[] { "list-objects-v2", "list-objects" })
        {
            JsonElement all = JsonDocument.Parse(await Tool.RunAsync(output, aws, Aws, Api(2, operation, "--bucket", "odd", "--page-size", "3"))).RootElement;
            Assert.Equal(Sorted(s_oddKeys), Sorted(Strings(all, "Contents", "Key")));
        }

        // ListObjectVersions on a bucket without versioning: every key once, as version "null", paged by key-marker and version-id-marker.
        JsonElement versions = JsonDocument.Parse(await Tool.RunAsync(output, aws, Aws, Api(1, "list-object-versions", "--bucket", "odd", "--page-size", "4"))).RootElement;
        Assert.Equal(Sorted(s_oddKeys), Sorted(Strings(versions, "Versions", "Key")));
        Assert.All(versions.GetProperty("Versions").EnumerateArray(), v => Assert.Equal(("null", true), (v.GetProperty("VersionId").GetString(), v.GetProperty("IsLatest").GetBoolean())));
        string versioning = await Tool.RunAsync(output, aws, Aws, Api(2, "get-bucket-versioning", "--bucket", "odd"));
        Assert.DoesNotContain("Status", versioning, StringComparison.Ordinal);

        // A prefix and a delimiter with escapes in them: the folders under the root and the keys under "plus+and space/".
        JsonElement top = JsonDocument.Parse(await Tool.RunAsync(output, aws, Aws, Api(3, "list-objects-v2", "--bucket", "odd", "--delimiter", "/"))).RootElement;
        Assert.Equal(Sorted(s_oddKeys.Where(k => k.Contains('/')).Select(k => k[..(k.IndexOf('/') + 1)]).Distinct()), Sorted(Strings(top, "CommonPrefixes", "Prefix")));
        Assert.Equal(Sorted(s_oddKeys.Where(k => !k.Contains('/'))), Sorted(Strings(top, "Contents", "Key")));
        JsonElement under = JsonDocument.Parse(await Tool.RunAsync(output, aws, Aws, Api(3, "list-objects-v2", "--bucket", "odd", "--prefix", "plus+and space/", "--delimiter", "/"))).RootElement;
        Assert.Equal(["plus+and space/x y"], Strings(under, "Contents", "Key"));

        // rclone lists (its own url decoding) and copies every key down; the names come back byte for byte.
        Dictionary<string, string?> rclone = RcloneEnvironment(cluster);
        JsonElement listed = JsonDocument.Parse(await Tool.RunAsync(output, rclone, "rclone", "lsjson", "-R", "--files-only", "n2:odd")).RootElement;
        // rclone shows a control character as its Unicode picture (a carriage return as U+240D) in names it lists and writes.
        static string Unpictured(string name) => new([.. name.Select(c => c is >= '\u2400' and < '\u2420' ? (char)(c - 0x2400) : c)]);
        Assert.Equal(Sorted(s_oddKeys), Sorted(listed.EnumerateArray().Select(e => Unpictured(e.GetProperty("Path").GetString()!))));
        string down = Path.Combine(_work, "down");
        await Tool.RunAsync(output, rclone, "rclone", "copy", "n1:odd", down);
        Assert.Equal(Sorted(s_oddKeys), Sorted(Directory.GetFiles(down, "*", SearchOption.AllDirectories).Select(f => Unpictured(Path.GetRelativePath(down, f)))));

        // And the CLI's delete of everything it lists leaves nothing: each key it sends back names the object.
        await Tool.RunAsync(output, aws, Aws, "--endpoint-url", $"http://{cluster.NodeId(2)}", "s3", "rm", "--recursive", "s3://odd/");
        string left = await Tool.RunAsync(output, aws, Aws, Api(1, "list-objects-v2", "--bucket", "odd"));
        Assert.True(string.IsNullOrWhiteSpace(left) || !Strings(JsonDocument.Parse(left).RootElement, "Contents", "Key").Any(), left);
    }

    [Fact]
    public async Task Rclone_CopySyncCheck()
    {
        using TestCluster cluster = await TestCluster.StartAsync(45, 3, output, "--api-keys", _keys.Path);
        Dictionary<string, string?> env = RcloneEnvironment(cluster);
        string source = Path.Combine(_work, "src");
        for (int i = 0; i < 6; i++)
        {
            WriteFile($"src/d{i % 3}/f{i}.bin", 7000 * i, 30 + i);
        }

        WriteFile("src/large.bin", 9 << 20, 40);
        await Tool.RunAsync(output, env, "rclone", "mkdir", "n1:rclone");
        await Tool.RunAsync(output, env, "rclone", "copy", source, "n1:rclone/copy");
        await Tool.RunAsync(output, env, "rclone", "check", source, "n2:rclone/copy");
        await Tool.RunAsync(output, env, "rclone", "sync", source, "n2:rclone/sync");
        File.Delete(Path.Combine(source, "d0/f0.bin"));
        WriteFile("src/d2/new.bin", 1234, 50);
        await Tool.RunAsync(output, env, "rclone", "sync", source, "n1:rclone/sync");
        await Tool.RunAsync(output, env, "rclone", "check", source, "n2:rclone/sync");
        await Tool.RunAsync(output, env, "rclone", "copy", "n2:rclone/sync", Path.Combine(_work, "back"));
        AssertSameTree(source, Path.Combine(_work, "back"));

        // check notices a difference (a test that cannot fail is no test).
        WriteFile("src/d1/f1.bin", 7000, 99);
        Assert.NotEqual(0, (await Tool.TryRunAsync(output, env, "rclone", "check", source, "n2:rclone/sync")).ExitCode);
    }

    [Fact]
    public async Task S3cmd_PutGetLsSyncDel()
    {
        using TestCluster cluster = await TestCluster.StartAsync(45, 3, output, "--api-keys", _keys.Path);
        string Config(int node)
        {
            string path = Path.Combine(_work, $"s3cfg-{node}");
            File.WriteAllText(path, $"""
                [default]
                access_key = {KeyFile.AccessKeyId(_keys.ReadWrite)}
                secret_key = {_keys.ReadWrite}
                host_base = {cluster.NodeId(node)}
                host_bucket = {cluster.NodeId(node)}
                use_https = False
                signature_v2 = False
                bucket_location = us-east-1
                """);
            return path;
        }

        Dictionary<string, string?> env = new() { ["AWS_CA_BUNDLE"] = null };
        string one = Config(1);
        string three = Config(3);
        await Tool.RunAsync(output, env, "s3cmd", "-c", one, "mb", "s3://s3c");
        string big = WriteFile("big.bin", 20 << 20, 60); // over s3cmd's 15 MiB chunk: multipart
        await Tool.RunAsync(output, env, "s3cmd", "-c", one, "put", big, "s3://s3c/big.bin");
        await Tool.RunAsync(output, env, "s3cmd", "-c", three, "get", "--force", "s3://s3c/big.bin", Path.Combine(_work, "big.back"));
        Assert.Equal(File.ReadAllBytes(big), File.ReadAllBytes(Path.Combine(_work, "big.back")));

        for (int i = 0; i < 4; i++)
        {
            WriteFile($"tree/f{i}.txt", 100 * (i + 1), 70 + i);
        }

        await Tool.RunAsync(output, env, "s3cmd", "-c", three, "sync", Path.Combine(_work, "tree") + "/", "s3://s3c/tree/");
        string listed = await Tool.RunAsync(output, env, "s3cmd", "-c", one, "ls", "-r", "s3://s3c/");
        Assert.Equal(5, listed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        await Tool.RunAsync(output, env, "s3cmd", "-c", one, "del", "--recursive", "--force", "s3://s3c/tree/");
        listed = await Tool.RunAsync(output, env, "s3cmd", "-c", three, "ls", "-r", "s3://s3c/");
        Assert.Single(listed.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
