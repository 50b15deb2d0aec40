// Owns: the node's data directory: creating it, proving it is writable, and holding an exclusive
// lock on it for the life of the process so two nodes can never share one state.
// Faults: every failure is a StartupException naming --data and the OS error; nothing is left behind
// by a failed open.
namespace O3Storage.Node.Hosting;

internal sealed class DataDirectory : IDisposable
{
    private const string LockFileName = ".lock";

    // A held flock surfaces as an IOException whose HResult is the raw errno (EWOULDBLOCK, 11 on
    // Linux x86_64 and aarch64) or, in some runtime versions, ERROR_SHARING_VIOLATION.
    private const int EWouldBlock = 11;
    private const int SharingViolation = unchecked((int)0x80070020);
    private readonly FileStream _lock;
    private readonly bool _createdByUs;

    private DataDirectory(string path, FileStream lockFile, bool createdByUs)
    {
        FullPath = path;
        _lock = lockFile;
        _createdByUs = createdByUs;
    }

    public string FullPath { get; }

    public string RaftDirectory => Path.Combine(FullPath, "raft");

    public string IdentityFile => Path.Combine(FullPath, "node.json");

    /// <summary>Where blobs live unless --device names a partition or file.</summary>
    public string DefaultDevicePath => Path.Combine(FullPath, "blobs.dev");

    /// <summary>Written once this node is a confirmed member; its absence means "no cluster state yet".</summary>
    public string MembershipMarker => Path.Combine(RaftDirectory, "joined");

    public static bool HasMembership(string dataDirectory) => File.Exists(Path.Combine(dataDirectory, "raft", "joined"));

    public static DataDirectory Open(string path)
    {
        if (File.Exists(path))
        {
            throw new StartupException($"--data {path} is a file, not a directory");
        }

        bool existed = Directory.Exists(path);
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"--data {path}: cannot create the directory: {e.Message}");
        }

        FileStream? lockFile = null;
        string lockPath = Path.Combine(path, LockFileName);
        try
        {
            try
            {
                lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e.HResult is SharingViolation or EWouldBlock)
            {
                throw new StartupException($"--data {path} is in use by another o3storage process");
            }

            string probe = Path.Combine(path, ".write-probe");
            using (var stream = new FileStream(probe, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough))
            {
                stream.WriteByte(0);
                stream.Flush(flushToDisk: true);
            }

            File.Delete(probe);
            return new DataDirectory(path, lockFile, createdByUs: !existed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lockFile?.Dispose();
            Cleanup(path, lockPath, existed);
            throw new StartupException($"--data {path} is not writable: {e.Message}");
        }
        catch (StartupException)
        {
            lockFile?.Dispose();
            if (lockFile is not null)
            {
                Cleanup(path, lockPath, existed);
            }

            throw;
        }
    }

    public void MarkMember() => AtomicFile.Write(MembershipMarker, "member\n"u8);

    /// <summary>Removes what this run created, for a fresh node whose bootstrap or join failed.</summary>
    public void RemoveFreshState()
    {
        TryDelete(() => Directory.Delete(RaftDirectory, recursive: true));
        TryDelete(() => File.Delete(IdentityFile));
        TryDelete(() => File.Delete(DefaultDevicePath));
        _lock.Dispose();
        Cleanup(FullPath, Path.Combine(FullPath, LockFileName), !_createdByUs);
    }

    public void Dispose() => _lock.Dispose();

    private static void Cleanup(string path, string lockPath, bool existed)
    {
        // The lock file of a directory that stays is never deleted: another process may be about to
        // lock it, and a deleted-then-recreated lock file would let two processes each hold "the" lock.
        if (!existed)
        {
            TryDelete(() => File.Delete(lockPath));
            TryDelete(() => Directory.Delete(path, recursive: false));
        }
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the directory is left as the OS let us leave it.
        }
    }
}
