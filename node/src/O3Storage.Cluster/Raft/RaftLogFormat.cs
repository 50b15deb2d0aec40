// Owns: which integrity check this node's Raft log was created with (the wal-format marker next to it),
// and moving a damaged log aside so the node can start over from its peers.
// Assumes: DotNext fixes a log's hash algorithm when the log is created; opening it with another one
// misreads every entry, so the marker, not the options of the day, decides.
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace O3Storage.Cluster.Raft;

public static class RaftLogFormat
{
    /// <summary>The checksum of every log entry this node writes: XxHash64, fast on ARM and 8 bytes an entry.</summary>
    public const WriteAheadLog.IntegrityHashAlgorithm Hash = WriteAheadLog.IntegrityHashAlgorithm.XxHash64;

    private const string MarkerName = "wal-format";
    private const string Checksummed = "xxhash64";

    /// <summary>
    /// True when the log has (or, being new, will have) checksums: a new log gets the marker before its
    /// first byte. False for a log created before checksums existed (a <c>wal</c> directory with files and
    /// no marker): it is opened as it was written.
    /// </summary>
    public static bool Prepare(string raftDirectory)
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

        return true;
    }

    /// <summary>Moves the log, its snapshots and its marker into <c>damaged-{time}</c> (kept for a post-mortem); returns that directory.</summary>
    public static string MoveAside(string raftDirectory, DateTimeOffset now)
    {
        string aside = Path.Combine(raftDirectory, $"damaged-{now:yyyyMMdd'T'HHmmss'Z'}");
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

        return aside;
    }
}
