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

    /// <summary>The outermost directory this run created for --data (the data directory or a missing parent); null when it existed.</summary>
    private readonly string? _createdRoot;

    private readonly bool _identityBefore;
    private readonly bool _deviceBefore;
    private readonly bool _certificatesBefore;
    private readonly bool _joinKeyBefore;

    private DataDirectory(string path, FileStream lockFile, string? createdRoot)
    {
        FullPath = path;
        _lock = lockFile;
        _createdRoot = createdRoot;
        _identityBefore = File.Exists(IdentityFile);
        _deviceBefore = File.Exists(DefaultDevicePath);
        _certificatesBefore = Directory.Exists(CertificatesDirectory);
        _joinKeyBefore = File.Exists(JoinKeyFile);
    }

    public string FullPath { get; }

    public string RaftDirectory => Path.Combine(FullPath, "raft");

    /// <summary>
    /// Fsyncs the directory above, this one and the Raft directory, so what startup created in them (the
    /// lock, the device file, raft/ and its first files) keeps its name through a power cut: a file's own
    /// fsync does not make its name durable.
    /// </summary>
    public void MakeNamesDurable()
    {
        foreach (string? directory in new[] { Path.GetDirectoryName(FullPath), FullPath, RaftDirectory })
        {
            if (directory is not null && Directory.Exists(directory))
            {
                Interop.Libc.FsyncDirectory(directory);
            }
        }
    }

    public string IdentityFile => Path.Combine(FullPath, "node.json");

    /// <summary>The cluster CA this node made (bootstrap) or was given (enrolment), its certificate, and the join token (ClusterAuthority).</summary>
    public string CertificatesDirectory => Path.Combine(FullPath, "certs");

    /// <summary>The join token as stretched (ClusterSecret), kept so that a start does not stretch it again (mode 600).</summary>
    public string JoinKeyFile => Path.Combine(FullPath, "join-key");

    /// <summary>Where blobs live unless --device names a partition or file.</summary>
    public string DefaultDevicePath => Path.Combine(FullPath, "blobs.dev");

    /// <summary>Written once this node is a confirmed member; its absence means "no cluster state yet".</summary>
    public string MembershipMarker => Path.Combine(RaftDirectory, "joined");

    /// <summary>Written when the cluster removed this node: its data can never rejoin (the file says why and how to start anew).</summary>
    public string RemovedMarker => Path.Combine(FullPath, RemovedFileName);

    private const string RemovedFileName = "removed";

    /// <summary>What the removed marker of <paramref name="dataDirectory"/> says, or null when the node was never removed.</summary>
    public static string? ReadRemoved(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, RemovedFileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    public void MarkRemoved(string reason) => AtomicFile.Write(RemovedMarker, System.Text.Encoding.UTF8.GetBytes(reason + "\n"));

    public static bool HasMembership(string dataDirectory) => File.Exists(Path.Combine(dataDirectory, "raft", "joined"));

    public static DataDirectory Open(string path)
    {
        if (File.Exists(path))
        {
            throw new StartupException($"--data {path} is a file, not a directory");
        }

        string? createdRoot = OutermostMissing(path);
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
            return new DataDirectory(path, lockFile, createdRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Cleanup(path, createdRoot);
            lockFile?.Dispose();
            throw new StartupException($"--data {path} is not writable: {e.Message}");
        }
        catch (StartupException)
        {
            if (lockFile is not null)
            {
                Cleanup(path, createdRoot);
                lockFile.Dispose();
            }

            throw;
        }
    }

    public void MarkMember() => AtomicFile.Write(MembershipMarker, "member\n"u8);

    /// <summary>
    /// Moves <paramref name="what"/> (the Raft directory, or its membership file) to
    /// <c>superseded/NAME-TIME</c> in this directory, where it is kept (small: metadata only) until
    /// deleted by hand; returns where. After it the identity and the blob store are never removed as
    /// "fresh": they hold the node's data.
    /// </summary>
    public string Supersede(string what)
    {
        string aside = Path.Combine(FullPath, "superseded", $"{Path.GetFileName(what)}-{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}");
        Directory.CreateDirectory(Path.GetDirectoryName(aside)!);
        if (Directory.Exists(what))
        {
            Directory.Move(what, aside);
        }
        else
        {
            File.Move(what, aside);
        }

        Interop.Libc.FsyncDirectory(Path.GetDirectoryName(aside)!);
        Interop.Libc.FsyncDirectory(Path.GetDirectoryName(what)!);
        return aside;
    }

    /// <summary>
    /// Removes what this run created, for a fresh node whose bootstrap or join failed. An identity or a
    /// blob store that was there before this run (a node joining anew with the data it holds) stays.
    /// </summary>
    public void RemoveFreshState()
    {
        TryDelete(() => Directory.Delete(RaftDirectory, recursive: true));
        if (!_identityBefore)
        {
            TryDelete(() => File.Delete(IdentityFile));
        }

        if (!_deviceBefore)
        {
            TryDelete(() => File.Delete(DefaultDevicePath));
        }

        Abandon();
    }

    /// <summary>
    /// Lets go of a directory this run did not get to use (no peer answered, discovery stopped): a
    /// directory this run created is removed again while nothing but its lock is in it, and the lock is
    /// released. A bootstrap vote keeps the directory (votes are final).
    /// </summary>
    public void Abandon()
    {
        if (!_certificatesBefore)
        {
            TryDelete(() => Directory.Delete(CertificatesDirectory, recursive: true));
        }

        if (!_joinKeyBefore)
        {
            TryDelete(() => File.Delete(JoinKeyFile));
        }

        Cleanup(FullPath, _createdRoot);
        _lock.Dispose();
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>The outermost of <paramref name="path"/> and its parents that does not exist yet, or null.</summary>
    private static string? OutermostMissing(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full))
        {
            return null;
        }

        string missing = full;
        for (string? parent = Path.GetDirectoryName(full); parent is not null && !Directory.Exists(parent); parent = Path.GetDirectoryName(parent))
        {
            missing = parent;
        }

        return missing;
    }

    /// <summary>
    /// Removes the directories this run created (<paramref name="createdRoot"/> and below, down to
    /// <paramref name="path"/>) while the data directory holds nothing but its lock; called while the
    /// lock is still held, so no other process can lock a file that is about to be unlinked.
    /// </summary>
    private static void Cleanup(string path, string? createdRoot)
    {
        // The lock file of a directory that stays is never deleted: another process may be about to
        // lock it, and a deleted-then-recreated lock file would let two processes each hold "the" lock.
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (createdRoot is null || !HoldsOnlyTheLock(full))
        {
            return;
        }

        TryDelete(() => File.Delete(Path.Combine(full, LockFileName)));

        // Each directory this run created, innermost first; one that is not empty stays (with those above it).
        for (string? directory = full; directory is not null && directory.Length >= createdRoot.Length; directory = Path.GetDirectoryName(directory))
        {
            try
            {
                Directory.Delete(directory, recursive: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private static bool HoldsOnlyTheLock(string directory)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(directory).All(entry => Path.GetFileName(entry) == LockFileName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
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
