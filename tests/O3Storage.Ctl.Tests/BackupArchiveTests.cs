using System.Formats.Tar;
using System.Security.Cryptography;
using O3Storage.Ctl.Backup;

namespace O3Storage.Ctl.Tests;

/// <summary>A backup's files, written and read back, in a directory and in a tar stream; short, disordered and foreign ones refused.</summary>
public sealed class BackupArchiveTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("o3ctl-backup-test-").FullName;

    private static readonly BackupManifest s_manifest = new(
        BackupFormat.Version, "cluster-1", new BackupSnapshot("backup-1", 42, DateTimeOffset.UnixEpoch), DateTimeOffset.UnixEpoch, "127.0.0.1:8080", "1.0",
        [new BackupBucket("photos", DateTimeOffset.UnixEpoch, 2, 5)], 2, 5);

    private static readonly (BackupObject Meta, byte[] Bytes)[] s_objects =
    [
        (Object("a/ü ñ+%?.jpg", [1, 2, 3]), [1, 2, 3]),
        (Object("empty", []), []),
    ];

    private static BackupObject Object(string key, byte[] bytes) =>
        new("photos", key, bytes.Length, "\"etag\"", "image/jpeg", 1000, new Dictionary<string, string> { ["camera"] = "pi" }, Convert.ToHexStringLower(SHA256.HashData(bytes)));

    private static async Task WriteAsync(BackupTarget target, bool finish = true)
    {
        await using (target)
        {
            await target.AddFileAsync(BackupFormat.ManifestName, BackupFormat.Serialize(s_manifest, BackupJson.Default.BackupManifest), default);
            long number = 0;
            foreach ((BackupObject meta, byte[] bytes) in s_objects)
            {
                number++;
                Stream spool = target.StartData();
                await spool.WriteAsync(bytes);
                await target.AddFileAsync(BackupFormat.MetadataName(number), BackupFormat.Serialize(meta, BackupJson.Default.BackupObject), default);
                await target.AddDataAsync(BackupFormat.DataName(number), default);
            }

            if (finish)
            {
                await target.FinishAsync(BackupFormat.Serialize(new BackupEnd(2, 5, DateTimeOffset.UnixEpoch), BackupJson.Default.BackupEnd), default);
            }
        }
    }

    private static async Task<List<(BackupObject, byte[])>> ReadAllAsync(BackupSource source)
    {
        var read = new List<(BackupObject, byte[])>();
        while (await source.NextAsync(default) is var (meta, data))
        {
            using var bytes = new MemoryStream();
            await data.CopyToAsync(bytes);
            read.Add((meta, bytes.ToArray()));
        }

        return read;
    }

    private static void AssertSame(BackupSource source, List<(BackupObject Meta, byte[] Bytes)> read)
    {
        Assert.Equal(s_manifest.Snapshot, source.Manifest.Snapshot);
        Assert.Equal(s_manifest.Buckets, source.Manifest.Buckets);
        Assert.Equal(s_objects.Select(o => (o.Meta.Key, o.Meta.Sha256, o.Meta.UserMetadata["camera"], Convert.ToHexString(o.Bytes))),
            read.Select(o => (o.Meta.Key, o.Meta.Sha256, o.Meta.UserMetadata["camera"], Convert.ToHexString(o.Bytes))));
        Assert.Equal(2, source.End!.Objects);
    }

    [Fact]
    public async Task Directory_RoundTrip_InTheFormatsOrder_PrivateToItsOwner()
    {
        string path = Path.Combine(_root, "backup");
        await WriteAsync(BackupTarget.Create(path));
        Assert.Equal(
            [BackupFormat.EndName, BackupFormat.ManifestName, "objects/00000001.data", "objects/00000001.json", "objects/00000002.data", "objects/00000002.json"],
            Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(path, f)).Order(StringComparer.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(path, "objects", "00000001.data")));
        await using BackupSource source = await BackupSource.OpenAsync(path, null, default);
        AssertSame(source, await ReadAllAsync(source));
    }

    [Fact]
    public async Task Tar_ThroughAStreamThatCannotSeek_RoundTrip()
    {
        var pipe = new MemoryStream();
        await WriteAsync(BackupTarget.Create("-", new Forward(pipe)));
        await using BackupSource source = await BackupSource.OpenAsync("-", new Forward(new MemoryStream(pipe.ToArray())), default);
        AssertSame(source, await ReadAllAsync(source));
    }

    [Fact]
    public async Task ExistingPlaces_AreNotWrittenOver()
    {
        string directory = Path.Combine(_root, "full");
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "holiday.jpg"), "x");
        Assert.Contains("not empty", Assert.Throws<BackupFormatException>(() => BackupTarget.Create(directory)).Message);
        string archive = Path.Combine(_root, "old.tar");
        File.WriteAllText(archive, "x");
        Assert.Contains("never overwrites", Assert.Throws<BackupFormatException>(() => BackupTarget.Create(archive)).Message);
        Assert.Equal("x", File.ReadAllText(archive));
    }

    [Fact]
    public async Task WithoutItsEndFile_TheBackupIsIncomplete()
    {
        string path = Path.Combine(_root, "short");
        await WriteAsync(BackupTarget.Create(path), finish: false);
        await using BackupSource source = await BackupSource.OpenAsync(path, null, default);
        Assert.Contains("incomplete", (await Assert.ThrowsAsync<BackupFormatException>(() => ReadAllAsync(source))).Message);
    }

    [Fact]
    public async Task ADataFileOfAnotherLength_OrAMissingObject_IsRefused()
    {
        string path = Path.Combine(_root, "damaged");
        await WriteAsync(BackupTarget.Create(path));
        File.AppendAllText(Path.Combine(path, "objects", "00000001.data"), "!");
        await using (BackupSource source = await BackupSource.OpenAsync(path, null, default))
        {
            Assert.Contains("of 3 bytes, found objects/00000001.data of 4", (await Assert.ThrowsAsync<BackupFormatException>(() => ReadAllAsync(source))).Message);
        }

        File.Delete(Path.Combine(path, "objects", "00000002.json"));
        File.WriteAllBytes(Path.Combine(path, "objects", "00000001.data"), [1, 2, 3]);
        await using (BackupSource source = await BackupSource.OpenAsync(path, null, default))
        {
            Assert.Contains("counts 2 objects, but 1 are there", (await Assert.ThrowsAsync<BackupFormatException>(() => ReadAllAsync(source))).Message);
        }
    }

    [Fact]
    public async Task ATarThatIsNotABackup_IsRefused()
    {
        string path = Path.Combine(_root, "other.tar");
        await using (FileStream file = File.Create(path))
        await using (var writer = new TarWriter(file))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "etc/hosts") { DataStream = new MemoryStream([1]) });
        }

        Assert.Contains("not an o3ctl backup", (await Assert.ThrowsAsync<BackupFormatException>(() => BackupSource.OpenAsync(path, null, default))).Message);
        Assert.Contains("neither", (await Assert.ThrowsAsync<BackupFormatException>(() => BackupSource.OpenAsync(Path.Combine(_root, "nothing"), null, default))).Message);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A stream that only goes forward, as a pipe does.</summary>
    private sealed class Forward(MemoryStream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
