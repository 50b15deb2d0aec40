using Amazon.Runtime;
using Amazon.S3;

namespace O3Storage.Integration.Tests.Harness;

/// <summary>The guide's api-keys.txt with one key of each role, in a private temp directory; and S3 clients signed with them.</summary>
internal sealed class KeyFile : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-it-keys-").FullName;

    public KeyFile()
    {
        Path = System.IO.Path.Combine(_directory, "api-keys.txt");
        File.WriteAllText(Path, $"admin:{Admin}\nread-write:{ReadWrite}\nread-only:{ReadOnly}\n");
        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public string Path { get; }

    public string Admin { get; } = new('a', 64);

    public string ReadWrite { get; } = new('b', 64);

    public string ReadOnly { get; } = new('c', 64);

    /// <summary>The access key id the node derives for a secret: "O3" and 18 hex digits of its SHA-256.</summary>
    public static string AccessKeyId(string secret) =>
        "O3" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)))[..18];

    public static AmazonS3Client Client(TestCluster cluster, int node, string secret, string? accessKeyId = null) => new(
        new BasicAWSCredentials(accessKeyId ?? AccessKeyId(secret), secret),
        new AmazonS3Config { ServiceURL = $"http://{cluster.Ip(node)}:{TestCluster.ApiPort}", ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
