// Owns: a diagnostic record of every log entry this node applies (index, term, a digest of the payload)
// and of every snapshot it loads, one line each, so that the chaos harness can check Raft's state machine
// safety directly: no two members may ever apply different entries at the same index.
// Assumes: written only when O3STORAGE_APPLY_TRACE names a file (test harnesses); never on a board.
// Faults: the file is appended without fsync: a power cut may lose its tail, never invent a line, and a
// torn last line is skipped by the reader.
using System.Globalization;
using System.Security.Cryptography;

namespace O3Storage.Cluster.Raft;

public sealed class ApplyTrace : IDisposable
{
    /// <summary>The environment variable naming the trace file; unset: no trace.</summary>
    public const string EnvironmentVariable = "O3STORAGE_APPLY_TRACE";

    private readonly StreamWriter _writer;

    public ApplyTrace(string path)
    {
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    /// <summary>The trace the environment asks for, or null.</summary>
    public static ApplyTrace? FromEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } path ? new ApplyTrace(path) : null;

    /// <summary>
    /// One applied entry: <c>apply INDEX TERM DIGEST</c>, the digest of the metadata record, "-" for an entry
    /// that carries none (the leader's empty entry, a configuration entry: DotNext hands the same
    /// configuration entry over as an empty one when it was appended here, and with its payload when it is
    /// read back after a restart, so its bytes cannot be compared).
    /// </summary>
    public void Applied(long index, long term, ReadOnlySpan<byte> record) =>
        Write(string.Create(CultureInfo.InvariantCulture, $"apply {index} {term} {(record.IsEmpty ? "-" : Digest(record))}"));

    /// <summary>A snapshot loaded in place of the entries up to <paramref name="index"/> (at start, or installed by the leader).</summary>
    public void Restored(long index) => Write(string.Create(CultureInfo.InvariantCulture, $"snapshot {index}"));

    /// <summary>The first 8 bytes of the payload's SHA-256, hex: enough to tell two entries apart.</summary>
    public static string Digest(ReadOnlySpan<byte> payload)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(payload, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    private void Write(string line)
    {
        lock (_writer)
        {
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (_writer)
        {
            _writer.Dispose();
        }
    }
}
