// Owns: making the Raft log's file names durable. DotNext creates a new page file every 64 entries (a
// 4 KiB metadata page) and every chunk of data, and flushes their contents (msync, O_DSYNC), but never
// fsyncs the directories that name them: after a power cut a file system may have lost the names of pages
// whose contents it kept, and the log would end before entries this member acknowledged.
// Assumes: every file that holds entries up to an index exists before that index is committed or
// acknowledged (pages are created when entries are appended), so syncing the directories whose names
// changed, at those moments, covers them. Only new names matter: a lost unlink just leaves an old page.
// That is not enough for the checkpoint: DotNext's background flusher writes it (write-through) naming
// every entry appended so far, committed or not, and an entry appended just after a sync may sit in a
// page whose name is not yet durable. A cut then leaves a checkpoint naming a page that is gone, and the
// node takes its log for damaged (found by the 50-round power-cut record: two of three nodes refused
// votes and the cluster never came back). So the next pages are created, empty, and their names made
// durable before the log reaches them: DotNext opens an existing page file rather than making one.
// Faults: a failed directory fsync throws, so the commit or the acknowledgement fails instead of lying.
using System.Globalization;

namespace O3Storage.Cluster.Raft;

/// <param name="pageDirectories">DotNext's page directories (numbered files): the <see cref="PagesAhead"/> pages after the last one in use are made ahead.</param>
internal sealed class DirectoryDurability(IReadOnlyList<string> directories, Action<string> fsyncDirectory, IReadOnlyList<string>? pageDirectories = null)
{
    /// <summary>
    /// Pages made ahead in each page directory: 2 metadata pages are 128 entries and 2 data pages 32 MiB,
    /// far more than a leader appends between two commits (a proposer has one batch in flight per node).
    /// </summary>
    public const int PagesAhead = 2;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _durableNames = [];

    // Per page directory, the highest page seen in use: pages only fill upwards, so on the commit path
    // only the few files above it are looked at (a stat each), not every page of the log.
    private readonly Dictionary<string, long> _usedPage = [];

    /// <summary>The Raft log's directories: the Raft directory, the WAL directory and its page directories.</summary>
    public static IReadOnlyList<string> RaftDirectories(string raftDirectory)
    {
        string wal = RaftNodeOptions.WalDirectory(raftDirectory);
        return [raftDirectory, wal, Path.Combine(wal, "metadata"), Path.Combine(wal, "data"), RaftNodeOptions.SnapshotDirectory(raftDirectory)];
    }

    /// <summary>DotNext's page directories under the Raft directory (metadata pages and data chunks).</summary>
    public static IReadOnlyList<string> PageDirectories(string raftDirectory)
    {
        string wal = RaftNodeOptions.WalDirectory(raftDirectory);
        return [Path.Combine(wal, "metadata"), Path.Combine(wal, "data")];
    }

    /// <summary>
    /// Makes the pages ahead, then fsyncs every directory that has a name it did not have at its last
    /// fsync; how many it synced.
    /// </summary>
    public int SyncNewNames()
    {
        lock (_gate)
        {
            foreach (string pages in pageDirectories ?? [])
            {
                MakePagesAhead(pages);
            }

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

    /// <summary>
    /// Creates (empty) the <see cref="PagesAhead"/> page files after the highest one in use. In use means
    /// longer than 0 bytes: DotNext sizes a page as it opens it, and at start it opens every page file, so
    /// after a restart the pages made ahead count as used and two more are made (later filled, not leaked).
    /// </summary>
    private void MakePagesAhead(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        long used = _usedPage.GetValueOrDefault(directory, -1);
        foreach (FileInfo file in new DirectoryInfo(directory).EnumerateFiles())
        {
            if (uint.TryParse(file.Name, NumberStyles.None, CultureInfo.InvariantCulture, out uint index) && index > used && InUse(file))
            {
                used = index;
            }
        }

        _usedPage[directory] = used;

        // Compaction deletes old pages while this runs: a page gone since it was listed is not in use.
        static bool InUse(FileInfo file)
        {
            try
            {
                return file.Length > 0;
            }
            catch (IOException)
            {
                return false;
            }
        }

        for (long index = used + 1; index <= used + PagesAhead && index <= uint.MaxValue; index++)
        {
            string path = Path.Combine(directory, index.ToString(CultureInfo.InvariantCulture));
            try
            {
                using var created = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Made already (by us earlier, or by DotNext just now): either way it is there to be synced.
            }
        }
    }
}
