// Owns: making the Raft log's file names durable. DotNext creates a new page file every 64 entries (a
// 4 KiB metadata page) and every chunk of data, and flushes their contents (msync, O_DSYNC), but never
// fsyncs the directories that name them: after a power cut a file system may have lost the names of pages
// whose contents it kept, and the log would end before entries this member acknowledged.
// Assumes: every file that holds entries up to an index exists before that index is committed or
// acknowledged (pages are created when entries are appended), so syncing the directories whose names
// changed, at those moments, covers them. Only new names matter: a lost unlink just leaves an old page.
// Faults: a failed directory fsync throws, so the commit or the acknowledgement fails instead of lying.
namespace O3Storage.Cluster.Raft;

internal sealed class DirectoryDurability(IReadOnlyList<string> directories, Action<string> fsyncDirectory)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _durableNames = [];

    /// <summary>The Raft log's directories: the Raft directory, the WAL directory and its page directories.</summary>
    public static IReadOnlyList<string> RaftDirectories(string raftDirectory)
    {
        string wal = RaftNodeOptions.WalDirectory(raftDirectory);
        return [raftDirectory, wal, Path.Combine(wal, "metadata"), Path.Combine(wal, "data"), RaftNodeOptions.SnapshotDirectory(raftDirectory)];
    }

    /// <summary>Fsyncs every directory that has a name it did not have at its last fsync; how many it synced.</summary>
    public int SyncNewNames()
    {
        lock (_gate)
        {
            int synced = 0;
            foreach (string directory in directories)
            {
                if (!Directory.Exists(directory))
                {
                    continue;
                }

                var names = new HashSet<string>(Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)!, StringComparer.Ordinal);
                if (_durableNames.TryGetValue(directory, out HashSet<string>? durable) && names.IsSubsetOf(durable))
                {
                    // Only removals (or nothing): no sync, but a name removed and made again must count as new.
                    _durableNames[directory] = names;
                    continue;
                }

                fsyncDirectory(directory);
                _durableNames[directory] = names;
                synced++;
            }

            return synced;
        }
    }
}
