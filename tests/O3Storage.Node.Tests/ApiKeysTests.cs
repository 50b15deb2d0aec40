using O3Storage.Node.Auth;

namespace O3Storage.Node.Tests;

public sealed class ApiKeysTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-keys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string KeyFile(string text, UnixFileMode mode)
    {
        string path = Path.Combine(_directory, "api-keys.txt");
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void GuideFile_LoadsEveryRole_WithDerivedAccessKeyIds()
    {
        // What the guide's script writes: role:$(openssl rand -hex 32), then chmod 600.
        string admin = new('a', 64), readWrite = new('b', 64), readOnly = new('c', 64);
        string path = KeyFile($"admin:{admin}\nread-write:{readWrite}  \nread-only:{readOnly}\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        ApiKeys keys = ApiKeys.TryLoad(path, out string? error)!;
        Assert.Null(error);
        Assert.Equal([ApiRole.Admin, ApiRole.ReadWrite, ApiRole.ReadOnly], keys.Keys.Select(k => k.Role));
        Assert.All(keys.Keys, k => Assert.Matches("^O3[0-9A-F]{18}$", k.AccessKeyId));
        Assert.Equal(ApiKeys.DeriveAccessKeyId(readWrite), keys.Keys[1].AccessKeyId);
        Assert.Same(keys.Keys[2], keys.FindBySecret(readOnly));
        Assert.Null(keys.FindBySecret(readOnly + "x"));
        Assert.Same(keys.Keys[0], keys.FindByAccessKeyId(keys.Keys[0].AccessKeyId));
        Assert.DoesNotContain(admin, keys.Keys[0].ToString());
    }

    [Fact]
    public void DerivedId_IsSha256Prefix()
    {
        // SHA-256("0123456789abcdef") = 9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f
        Assert.Equal("O39F9F5111F7B27A781F", ApiKeys.DeriveAccessKeyId("0123456789abcdef"));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, "(mode 0644); run: chmod 600")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, "(mode 0640); run: chmod 600")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherWrite, "(mode 0402); run: chmod 600")]
    public void OpenPermissions_AreRefusedWithChmod600(UnixFileMode mode, string expected)
    {
        string path = KeyFile($"admin:{new string('a', 64)}\n", mode);
        Assert.Null(ApiKeys.TryLoad(path, out string? error));
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("admin", "line 1: expected role:key")]
    [InlineData("root:0123456789abcdef0123", "line 1: role 'root' is not admin, read-write or read-only")]
    [InlineData("admin:short", "line 1: a key needs at least 16 characters")]
    [InlineData("# comment\n\nadmin:0123456789abcdef0123:bad-id!", "line 3: access key id must be")]
    [InlineData("admin:0123456789abcdef0123\nread-only:0123456789abcdef0123", "line 2: the same key or access key id appears twice")]
    [InlineData("# only a comment\n", "holds no keys")]
    [InlineData("read-write:0123456789abcdef0123\n", "holds no admin key")]
    public void BadLines_AreRefusedByLineNumber_WithoutEchoingKeys(string text, string expected)
    {
        Assert.Null(ApiKeys.TryParse(text, "keys.txt", out string? error));
        Assert.Contains(expected, error);
        Assert.DoesNotContain("0123456789abcdef0123", error);
    }

    [Fact]
    public void ExplicitAccessKeyId_IsUsed()
    {
        ApiKeys keys = ApiKeys.TryParse("read-only:0123456789abcdef0123:MYKEYID\nadmin:ffffffffffffffffffffffff", "t", out _)!;
        Assert.Equal("MYKEYID", keys.Keys[0].AccessKeyId);
    }
}
