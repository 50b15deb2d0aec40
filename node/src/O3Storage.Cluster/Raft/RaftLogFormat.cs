// Owns: which integrity check this node's Raft log was created with (the wal-format marker next to it),
// moving a damaged log aside so the node can start over from its peers, and the durable record
// (raft/recovering) that it is doing so.
// Assumes: DotNext fixes a log's hash algorithm when the log is created; opening it with another one
// misreads every entry, so the marker, not the options of the day, decides.
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using O3Storage.Cluster.Health;

namespace O3Storage.Cluster.Raft;

public static class RaftLogFormat
{
    /// <summary>The checksum of every log entry this node writes: XxHash64, fast on ARM and 8 bytes an entry.</summary>
    public const WriteAheadLog.IntegrityHashAlgorithm Hash = WriteAheadLog.IntegrityHashAlgorithm.XxHash64;

    private const string MarkerName = "wal-format";
    private const string Checksummed = "xxhash64";
    private const string RecoveringName = "recovering";

    /// <summary>
    /// True when the log has (or, being new, will have) checksums: a new log gets the marker before its
    /// first byte. False for a log created before checksums existed (a <c>wal</c> directory with files and
    /// no marker): it is opened as it was written.
    /// </summary>
    /// <param name="fsyncDirectory">Flushes a directory's entries (fsync(2) on it); null in tests that need no power-cut safety.</param>
    public static bool Prepare(string raftDirectory, Action<string>? fsyncDirectory = null)
    {
        string marker = Path.Combine(raftDirectory, MarkerName);
        if (File.Exists(marker))
        {
            string format = File.ReadAllText(marker).Trim();
            return format == Checksummed
                ? true
                : throw new InvalidDataException($"{marker} names the log format '{format}', which this version does not know");
        }

        string wal = RaftNodeOptions.WalDirectory(raftDirectory);
        if (Directory.Exists(wal) && Directory.EnumerateFileSystemEntries(wal).Any())
        {
            return false;
        }

        Directory.CreateDirectory(raftDirectory);
        using (var file = new FileStream(marker, FileMode.Create, FileAccess.Write))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(Checksummed + "\n"));
            file.Flush(flushToDisk: true);
        }

        // Lost with its directory entry, the marker would make a checksummed log open as an unchecked one.
        fsyncDirectory?.Invoke(raftDirectory);
        return true;
    }

    /// <summary>Where <see cref="MoveAside"/> puts a log found damaged at <paramref name="now"/>.</summary>
    public static string AsidePath(string raftDirectory, DateTimeOffset now) => Path.Combine(raftDirectory, $"damaged-{now:yyyyMMdd'T'HHmmss'Z'}");

    /// <summary>
    /// Records, durably and before anything is moved, that this node is rebuilding a damaged log: until
    /// <see cref="ClearRecovering"/>, every start (a restart mid-recovery, a crash mid-move) refuses votes.
    /// </summary>
    public static void MarkRecovering(string raftDirectory, RaftLogHealth damage, Action<string>? fsyncDirectory)
    {
        string path = Path.Combine(raftDirectory, RecoveringName);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write))
        {
            string text = $"{damage.DamagedAt:O}\n{damage.MovedTo}\n{damage.Detail}\n";
            file.Write(System.Text.Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }

        fsyncDirectory?.Invoke(raftDirectory);
    }

    /// <summary>The damage a recovery in progress was started for, or null when none is.</summary>
    public static RaftLogHealth? ReadRecovering(string raftDirectory)
    {
        string path = Path.Combine(raftDirectory, RecoveringName);
        if (!File.Exists(path))
        {
            return null;
        }

        string[] lines = File.ReadAllText(path).Split('\n');
        DateTimeOffset? since = lines.Length > 0 && DateTimeOffset.TryParse(lines[0], System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out DateTimeOffset at) ? at : null;
        return new RaftLogHealth(true, RaftLogHealth.Recovering, lines.Length > 2 && lines[2].Length > 0 ? lines[2] : "a recovery of a damaged log was under way when the node stopped", since, lines.Length > 1 && lines[1].Length > 0 ? lines[1] : null);
    }

    /// <summary>The node has caught up and votes again: the recovery is over.</summary>
    public static void ClearRecovering(string raftDirectory, Action<string>? fsyncDirectory)
    {
        File.Delete(Path.Combine(raftDirectory, RecoveringName));
        fsyncDirectory?.Invoke(raftDirectory);
    }

    /// <summary>Moves the log, its snapshots and its marker into <paramref name="aside"/> (kept for a post-mortem).</summary>
    public static void MoveAside(string raftDirectory, string aside, Action<string>? fsyncDirectory)
    {
        Directory.CreateDirectory(aside);
        foreach (string name in new[] { "wal", "snapshots" })
        {
            string from = Path.Combine(raftDirectory, name);
            if (Directory.Exists(from))
            {
                Directory.Move(from, Path.Combine(aside, name));
            }
        }

        string marker = Path.Combine(raftDirectory, MarkerName);
        if (File.Exists(marker))
        {
            File.Move(marker, Path.Combine(aside, MarkerName));
        }

        fsyncDirectory?.Invoke(aside);
        fsyncDirectory?.Invoke(raftDirectory);
    }
}
