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
// Cost: this runs on every append and commit, heartbeats included (a follower's reads make the leader
// send them by the hundred a second). A directory is listed only when its modification time says a name
// was added or removed since the last listing; pages are probed upwards from the last one in use rather
// than listed (under writes a page directory's time changes every new page, so a listing would run on
// every call: 3.6 % of all CPU during 4 KiB PUTs); a page made ahead already is seen with a stat, not a
// failed create (an exception each).
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

    /// <summary>
    /// A directory whose modification time is at least this old when it is listed can be trusted to show
    /// any later change as a different time: file systems stamp with a coarse clock (milliseconds), and a
    /// name made in the same tick as the one before it would otherwise leave the time as it was.
    /// </summary>
    public static readonly TimeSpan QuietAfter = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, HashSet<string>> _durableNames = [];

    // Per directory, the modification time it had when its names were last listed,
    // if that time was already QuietAfter old then: while it still has it, no name came or went since.
    private readonly Dictionary<string, DateTime> _namesListedAt = [];

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
                DateTime now = DateTime.UtcNow; // before the stat: any change after it is stamped later than this
                var info = new DirectoryInfo(directory);
                if (!info.Exists)
                {
                    continue;
                }

                DateTime modified = info.LastWriteTimeUtc;
                if (Unchanged(_namesListedAt, directory, modified))
                {
                    continue; // nothing added or removed since the last listing
                }

                var names = new HashSet<string>(Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)!, StringComparer.Ordinal);
                if (!_durableNames.TryGetValue(directory, out HashSet<string>? durable) || !names.IsSubsetOf(durable))
                {
                    fsyncDirectory(directory);
                    synced++;
                }

                // After only removals (or nothing) no sync, but a name removed and made again must count as new.
                _durableNames[directory] = names;
                Listed(_namesListedAt, directory, modified, now); // only once its new names are durable
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

        // Pages fill upwards: from the last page seen in use, the files above it are probed (the pages made
        // ahead, and any the log made itself) until one is missing, a stat each. The directory is listed only
        // the first time, or when that page is gone (the log was cut back or compacted past it).
        long used = _usedPage.GetValueOrDefault(directory, -1);
        if (used < 0 || !File.Exists(PagePath(directory, used)))
        {
            used = -1;
            foreach (uint index in PageIndexes(directory))
            {
                if (index > used && InUse(new FileInfo(PagePath(directory, index))))
                {
                    used = index;
                }
            }
        }
        else
        {
            for (long index = used + 1; index <= uint.MaxValue; index++)
            {
                var page = new FileInfo(PagePath(directory, index));
                if (!page.Exists)
                {
                    break;
                }

                if (InUse(page))
                {
                    used = index;
                }
            }
        }

        _usedPage[directory] = used;

        // Compaction deletes old pages while this runs: a page gone since it was listed is not in use.
        static bool InUse(FileInfo file)
        {
            try
            {
                return file.Exists && file.Length > 0;
            }
            catch (IOException)
            {
                return false;
            }
        }

        for (long index = used + 1; index <= used + PagesAhead && index <= uint.MaxValue; index++)
        {
            string path = PagePath(directory, index);
            if (File.Exists(path))
            {
                continue;
            }

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

    /// <summary>The numbered files in a page directory (listed only when the probing above cannot start: rarely).</summary>
    private static IEnumerable<uint> PageIndexes(string directory) =>
        Directory.EnumerateFiles(directory)
            .Select(path => uint.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out uint index) ? index : (uint?)null)
            .OfType<uint>();

    /// <summary>Whether <paramref name="directory"/>'s names are as at its last trusted listing: it still has the time recorded then.</summary>
    private static bool Unchanged(Dictionary<string, DateTime> listedAt, string directory, DateTime modified) =>
        listedAt.TryGetValue(directory, out DateTime at) && at == modified;

    /// <summary>
    /// Records a listing of <paramref name="directory"/> taken at its time <paramref name="modified"/>: trusted
    /// next time if that time was QuietAfter older than <paramref name="now"/> (read before it), else not.
    /// </summary>
    private static void Listed(Dictionary<string, DateTime> listedAt, string directory, DateTime modified, DateTime now)
    {
        if (now - modified >= QuietAfter)
        {
            listedAt[directory] = modified;
        }
        else
        {
            listedAt.Remove(directory);
        }
    }

    private static string PagePath(string directory, long index) => Path.Combine(directory, index.ToString(CultureInfo.InvariantCulture));
}
