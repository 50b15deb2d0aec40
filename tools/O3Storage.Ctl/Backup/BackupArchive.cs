// Owns: writing and reading a backup's files (BackupFormat), in a directory or a tar archive (a file, or
// standard output and input for a pipe), in the one order the format fixes. Writers take an object's
// bytes into a spool first (the caller hashes them on the way), so its metadata, with the SHA-256, goes
// before them; a directory keeps the spool under its name, an archive copies it in. Readers hand out each
// object's metadata and then a stream of exactly its bytes, and refuse a backup that is short, out of
// order, or not o3ctl's. Backups hold every object of a cluster: a directory is made 0700, files 0600.
using System.Formats.Tar;
using System.Runtime.InteropServices;

namespace O3Storage.Ctl.Backup;

/// <summary>Where a backup is written: its files in the format's order.</summary>
public abstract partial class BackupTarget : IAsyncDisposable
{
    /// <summary>A new directory (absent or empty), or a new .tar file, or - for standard output.</summary>
    /// <exception cref="BackupFormatException">The place already holds something.</exception>
    public static BackupTarget Create(string path, Stream? standardOutput = null)
    {
        if (!BackupFormat.IsArchive(path))
        {
            return new DirectoryTarget(path);
        }

        if (path == "-")
        {
            return new TarTarget(standardOutput ?? Console.OpenStandardOutput(), path);
        }

        if (File.Exists(path))
        {
            throw new BackupFormatException($"{path} exists: a backup never overwrites one");
        }

        var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
        return new TarTarget(file, path);
    }

    public abstract Task AddFileAsync(string name, byte[] content, CancellationToken token);

    /// <summary>An empty spool for the next object's bytes, positioned at its start.</summary>
    public abstract Stream StartData();

    /// <summary>The spool, as written since <see cref="StartData"/>, becomes the file <paramref name="name"/>.</summary>
    public abstract Task AddDataAsync(string name, CancellationToken token);

    /// <summary>Everything written so far is on its disk before the end file says the backup is whole.</summary>
    public abstract Task FinishAsync(byte[] end, CancellationToken token);

    public abstract ValueTask DisposeAsync();

    [LibraryImport("libc", EntryPoint = "sync")]
    private static partial void Sync();

    private sealed class DirectoryTarget : BackupTarget
    {
        private readonly string _root;
        private readonly string _incoming;
        private FileStream? _spool;

        public DirectoryTarget(string root)
        {
            if (Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any())
            {
                throw new BackupFormatException($"{root} is not empty: a backup goes into a new or empty directory");
            }

            _root = root;
            Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateDirectory(Path.Combine(root, BackupFormat.ObjectsFolder), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            _incoming = Path.Combine(root, BackupFormat.ObjectsFolder, ".incoming");
        }

        public override async Task AddFileAsync(string name, byte[] content, CancellationToken token)
        {
            string path = Path.Combine(_root, name);
            await File.WriteAllBytesAsync(path + ".partial", content, token).ConfigureAwait(false);
            File.SetUnixFileMode(path + ".partial", UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(path + ".partial", path);
        }

        public override Stream StartData()
        {
            _spool?.Dispose();
            _spool = new FileStream(_incoming, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.ReadWrite, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite });
            return _spool;
        }

        public override async Task AddDataAsync(string name, CancellationToken token)
        {
            await _spool!.DisposeAsync().ConfigureAwait(false);
            _spool = null;
            File.Move(_incoming, Path.Combine(_root, name));
        }

        public override async Task FinishAsync(byte[] end, CancellationToken token)
        {
            Sync();
            await AddFileAsync(BackupFormat.EndName, end, token).ConfigureAwait(false);
            Sync();
        }

        public override async ValueTask DisposeAsync()
        {
            if (_spool is not null)
            {
                await _spool.DisposeAsync().ConfigureAwait(false);
                File.Delete(_incoming);
            }
        }
    }

    private sealed class TarTarget(Stream stream, string path) : BackupTarget
    {
        private readonly TarWriter _writer = new(stream, TarEntryFormat.Pax, leaveOpen: false);
        private FileStream? _spool;

        public override Task AddFileAsync(string name, byte[] content, CancellationToken token) =>
            WriteAsync(name, new MemoryStream(content, writable: false), token);

        public override Stream StartData()
        {
            _spool ??= new FileStream(Path.Combine(Path.GetTempPath(), $"o3ctl-backup-{Environment.ProcessId}.spool"), new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.ReadWrite,
                Options = FileOptions.DeleteOnClose,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            _spool.SetLength(0);
            return _spool;
        }

        public override async Task AddDataAsync(string name, CancellationToken token)
        {
            await _spool!.FlushAsync(token).ConfigureAwait(false);
            _spool.Position = 0;
            await WriteAsync(name, _spool, token).ConfigureAwait(false);
        }

        public override async Task FinishAsync(byte[] end, CancellationToken token)
        {
            await AddFileAsync(BackupFormat.EndName, end, token).ConfigureAwait(false);
            await stream.FlushAsync(token).ConfigureAwait(false);
            if (stream is FileStream file && path != "-")
            {
                file.Flush(flushToDisk: true);
            }
        }

        private async Task WriteAsync(string name, Stream data, CancellationToken token)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name)
            {
                DataStream = data,
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                ModificationTime = DateTimeOffset.UtcNow,
            };
            await _writer.WriteEntryAsync(entry, token).ConfigureAwait(false);
        }

        public override async ValueTask DisposeAsync()
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
            if (_spool is not null)
            {
                await _spool.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>A backup being read: the manifest, then each object's metadata and bytes, then its end.</summary>
public abstract class BackupSource : IAsyncDisposable
{
    private long _number;
    private bool _ended;

    protected BackupSource(string path) => Path = path;

    public string Path { get; }

    public BackupManifest Manifest { get; private set; } = null!;

    /// <summary>Set once <see cref="NextAsync"/> has answered null: the backup was whole.</summary>
    public BackupEnd? End { get; private set; }

    /// <summary>A directory, a .tar file, or - for standard input; its manifest read.</summary>
    /// <exception cref="BackupFormatException">Not a backup, or not one this o3ctl reads.</exception>
    public static async Task<BackupSource> OpenAsync(string path, Stream? standardInput, CancellationToken token)
    {
        BackupSource source;
        if (BackupFormat.IsArchive(path))
        {
            source = new TarSource(path == "-" ? standardInput ?? Console.OpenStandardInput() : OpenFile(path), path);
        }
        else if (Directory.Exists(path))
        {
            source = new DirectorySource(path);
        }
        else
        {
            throw new BackupFormatException($"{path} is neither a backup directory nor a .tar archive");
        }

        try
        {
            (string name, byte[] manifest) = await source.ReadSmallAsync(token).ConfigureAwait(false);
            if (name != BackupFormat.ManifestName)
            {
                throw new BackupFormatException($"{path} does not start with {BackupFormat.ManifestName} (found {name}): not an o3ctl backup");
            }

            source.Manifest = BackupFormat.Deserialize(manifest, BackupJson.Default.BackupManifest, BackupFormat.ManifestName);
            if (source.Manifest.Format != BackupFormat.Version)
            {
                throw new BackupFormatException($"{path} is a backup of format {source.Manifest.Format}; this o3ctl reads {BackupFormat.Version}");
            }

            return source;
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The next object's metadata and a stream of exactly its bytes (read it before asking for the next), or null at the end.</summary>
    /// <exception cref="BackupFormatException">The backup is short, out of order or damaged.</exception>
    public async Task<(BackupObject Object, Stream Data)?> NextAsync(CancellationToken token)
    {
        if (_ended)
        {
            return null;
        }

        (string name, byte[] content) = await ReadSmallAsync(token).ConfigureAwait(false);
        if (name == BackupFormat.EndName)
        {
            _ended = true;
            End = BackupFormat.Deserialize(content, BackupJson.Default.BackupEnd, name);
            if (End.Objects != _number)
            {
                throw new BackupFormatException($"{Path}: {BackupFormat.EndName} counts {End.Objects} objects, but {_number} are there");
            }

            return null;
        }

        _number++;
        if (name != BackupFormat.MetadataName(_number))
        {
            throw new BackupFormatException($"{Path}: expected {BackupFormat.MetadataName(_number)}, found {name}");
        }

        BackupObject meta = BackupFormat.Deserialize(content, BackupJson.Default.BackupObject, name);
        (string dataName, long length, Stream data) = await NextEntryAsync(token).ConfigureAwait(false) ?? throw Short(BackupFormat.DataName(_number));
        if (dataName != BackupFormat.DataName(_number) || length != meta.Size)
        {
            throw new BackupFormatException($"{Path}: expected {BackupFormat.DataName(_number)} of {meta.Size} bytes, found {dataName} of {length}");
        }

        return (meta, data);
    }

    /// <summary>The next file: its name, length and bytes; null when there is none.</summary>
    protected abstract Task<(string Name, long Length, Stream Data)?> NextEntryAsync(CancellationToken token);

    public abstract ValueTask DisposeAsync();

    private async Task<(string Name, byte[] Content)> ReadSmallAsync(CancellationToken token)
    {
        (string name, long length, Stream data) = await NextEntryAsync(token).ConfigureAwait(false)
            ?? throw Short(_number == 0 && Manifest is null ? BackupFormat.ManifestName : $"{BackupFormat.MetadataName(_number + 1)} or {BackupFormat.EndName}");
        if (length > 1 << 20)
        {
            throw new BackupFormatException($"{Path}: {name} is {length} bytes, too large for a backup's metadata");
        }

        using var buffer = new MemoryStream();
        await data.CopyToAsync(buffer, token).ConfigureAwait(false);
        return (name, buffer.ToArray());
    }

    private BackupFormatException Short(string expected) =>
        new($"{Path} ends before {expected}: the backup is incomplete (was it interrupted?)");

    private static FileStream OpenFile(string path)
    {
        try
        {
            return File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BackupFormatException($"cannot read {path}: {e.Message}");
        }
    }

    private sealed class DirectorySource(string path) : BackupSource(path)
    {
        private long _next;
        private bool _data;
        private FileStream? _open;

        protected override async Task<(string Name, long Length, Stream Data)?> NextEntryAsync(CancellationToken token)
        {
            if (_open is not null)
            {
                await _open.DisposeAsync().ConfigureAwait(false);
                _open = null;
            }

            // The order the format fixes: the manifest; each object's metadata, then its data; the end.
            string name = _next == 0 ? BackupFormat.ManifestName
                : _data ? BackupFormat.DataName(_next)
                : File.Exists(System.IO.Path.Combine(Path, BackupFormat.MetadataName(_next))) ? BackupFormat.MetadataName(_next)
                : BackupFormat.EndName;
            if (_next == 0)
            {
                _next = 1;
            }
            else if (_data)
            {
                (_data, _next) = (false, _next + 1);
            }
            else if (name != BackupFormat.EndName)
            {
                _data = true;
            }

            string file = System.IO.Path.Combine(Path, name);
            if (!File.Exists(file))
            {
                return null;
            }

            _open = OpenFile(file);
            return (name, _open.Length, _open);
        }

        public override async ValueTask DisposeAsync()
        {
            if (_open is not null)
            {
                await _open.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private sealed class TarSource(Stream stream, string path) : BackupSource(path)
    {
        private readonly TarReader _reader = new(stream, leaveOpen: false);

        protected override async Task<(string Name, long Length, Stream Data)?> NextEntryAsync(CancellationToken token)
        {
            TarEntry? entry;
            try
            {
                entry = await _reader.GetNextEntryAsync(copyData: false, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw new BackupFormatException($"{Path} is not a whole tar archive: {e.Message}");
            }

            return entry is null ? null : (entry.Name, entry.Length, entry.DataStream ?? Stream.Null);
        }

        public override ValueTask DisposeAsync() => _reader.DisposeAsync();
    }
}
