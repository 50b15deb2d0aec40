using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Api;
using O3Storage.Node.Auth;
using O3Storage.Node.Hosting;

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

    [Fact]
    public void AFileWithoutAnAdminKey_IsTaken_TheClustersKeysMayHoldOne()
    {
        ApiKeys keys = ApiKeys.TryParse("read-write:0123456789abcdef0123\n", "keys.txt", out string? error)!;
        Assert.Null(error);
        Assert.False(keys.Keys.Single().IsAdmin);
    }

    [Fact]
    public void Merge_KeepsTheFirstHolderOfAnIdOrSecret_SoNoOtherSourceWidensAKey()
    {
        ApiKeys local = ApiKeys.TryParse("read-only:0123456789abcdef0123\n", "local", out _)!;
        ApiKey reader = local.Keys[0];
        ApiKeys merged = ApiKeys.Merge(local, [
            reader with { Role = ApiRole.Admin }, // the same key, admin on another node: not widened
            new ApiKey(ApiRole.Admin, "another-secret-0123456789", reader.AccessKeyId), // another secret under its id
            new ApiKey(ApiRole.ReadWrite, "writer-secret-0123456789", "O3WRITER"),
        ])!;
        Assert.Equal([ApiRole.ReadOnly, ApiRole.ReadWrite], merged.Keys.Select(k => k.Role));
        Assert.Equal(ApiRole.ReadOnly, merged.FindBySecret(reader.Secret)!.Role);
        Assert.Null(merged.FindBySecret("another-secret-0123456789"));
        Assert.Null(ApiKeys.Merge(null, []));
    }

    [Fact]
    public void KeyRing_HonoursItsFileAndTheClusters_AndReadsTheFileAgainWhenItChanges()
    {
        string path = Path.Combine(_directory, "api-keys.txt");
        var ring = KeyRing.Started(path, null, Path.Combine(_directory, "first-admin-key"));
        var empty = ImmutableSortedDictionary<string, ImmutableArray<ClusterKey>>.Empty.WithComparers(StringComparer.Ordinal);
        Assert.Null(ring.Current(empty)); // no file, no cluster keys: authentication off
        Assert.False(ring.Refresh(out _));

        // The cluster's keys turn authentication on for a node without a file.
        var cluster = empty.Add("10.0.0.2:8080", [new ClusterKey(2, "cluster-admin-0123456789", "O3CLUSTER")]);
        Assert.Equal(ApiRole.Admin, ring.Current(cluster)!.FindByAccessKeyId("O3CLUSTER")!.Role);

        // The guide's way: append, then chmod 600. Open permissions are refused and the keys before kept.
        File.WriteAllText(path, "read-write:0123456789abcdef0123\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.False(ring.Refresh(out string? error));
        Assert.Contains("chmod 600", error);
        Assert.Null(ring.Local);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.True(ring.Refresh(out error));
        Assert.Null(error);
        Assert.Equal(2, ring.Current(cluster)!.Keys.Count);
        Assert.False(ring.Refresh(out _)); // unchanged

        // What the node commits follows the file: its keys under its id, nothing once the cluster holds them.
        MetadataState state = MetadataState.Empty.Apply(new SetClusterLevel(MetadataCodec.Level), 1);
        SetApiKeys due = KeySyncLoop.Due("10.0.0.1:8080", ring.Local, state)!;
        Assert.Equal("10.0.0.1:8080", due.Source);
        Assert.True(KeyRing.Same(KeyRing.ToCluster(ring.Local), due.Keys));
        state = state.Apply(due, 2);
        Assert.Null(KeySyncLoop.Due("10.0.0.1:8080", ring.Local, state));
        Assert.Null(KeySyncLoop.Due("10.0.0.1:8080", ring.Local, MetadataState.Empty)); // a cluster not at level 3 yet: the file alone counts

        File.Delete(path);
        Assert.True(ring.Refresh(out _));
        Assert.Null(ring.Local);
        Assert.Empty(KeySyncLoop.Due("10.0.0.1:8080", ring.Local, state)!.Keys); // withdrawn
    }

    [Fact]
    public void FirstAdminKey_IsSharedOnce_CopiedByEveryMember_AndItsCopyCountsOnlyUntilTheClusterHoldsIt()
    {
        string path = Path.Combine(_directory, FirstAdminKey.FileName);
        string id = FirstAdminKey.Make(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var ring = KeyRing.Started(Path.Combine(_directory, "api-keys.txt"), null, path);
        ApiKey made = ring.FirstAdmin!.Keys.Single();
        Assert.Equal((ApiRole.Admin, id), (made.Role, made.AccessKeyId));
        var none = ImmutableSortedDictionary<string, ImmutableArray<ClusterKey>>.Empty.WithComparers(StringComparer.Ordinal);
        Assert.Same(made, ring.Current(none)!.FindByAccessKeyId(id)); // closed before the cluster holds it

        // The maker shares it, once the cluster reads level 3.
        MetadataState state = MetadataState.Empty;
        Assert.Equal(FirstAdminKey.Step.None, FirstAdminKey.Next(ring.FirstAdmin, true, state));
        state = state.Apply(new SetClusterLevel(MetadataCodec.Level), 1);
        SetApiKeys share = Assert.IsType<FirstAdminKey.Step.Share>(FirstAdminKey.Next(ring.FirstAdmin, true, state)).Command;
        state = state.Apply(share, 2);
        Assert.Equal(FirstAdminKey.Step.None, FirstAdminKey.Next(ring.FirstAdmin, true, state));

        // Another member copies it; nobody else ever makes or shares one.
        Assert.Equal(made.Secret, Assert.IsType<FirstAdminKey.Step.Copy>(FirstAdminKey.Next(null, false, state)).Key.Secret);
        Assert.Equal(FirstAdminKey.Step.None, FirstAdminKey.Next(null, false, MetadataState.Empty.Apply(new SetClusterLevel(MetadataCodec.Level), 1)));

        // Retired: not honoured even while the copy is still on disk, the copy deleted, never shared again.
        state = state.Apply(new SetApiKeys(ClusterKey.FirstAdminSource, []), 3);
        Assert.Null(ring.Current(state.ApiKeys));
        Assert.Equal(FirstAdminKey.Step.DeleteCopy, FirstAdminKey.Next(ring.FirstAdmin, true, state));
        Assert.Equal(FirstAdminKey.Step.None, FirstAdminKey.Next(ring.FirstAdmin, false, state));
    }

    [Fact]
    public void BetweenNodes_WithCertificatesNoKeyTravels_WithoutThemTheClustersAdminKeyDoes()
    {
        ApiKeys keys = ApiKeys.TryParse("read-write:0123456789abcdef0123\nadmin:fedcba9876543210fedc\n", "keys", out _)!;
        ClusterAuthority.Create(_directory, System.Net.IPAddress.Loopback);
        using NodeCertificates certificates = NodeCertificates.Load(_directory, System.Net.IPAddress.Loopback, TimeProvider.System)!;

        Assert.Null(InternalAuth.Bearer(keys, certificates.Trust)); // every cluster this release forms
        Assert.Equal("fedcba9876543210fedc", InternalAuth.Bearer(keys, null)); // a cluster of an earlier release, without TLS
        Assert.Null(InternalAuth.Bearer(null, null)); // authentication off
    }
}
