// Owns: the committed entries a member applies while the snapshot before them is still being fetched
// (MetadataStateMachine): kept in a file beside the snapshots, in log order, until the snapshot is here.
// Assumes: one writer (the apply loop) and, afterwards, one reader; nothing in it needs to survive a
// restart: DotNext applies the committed entries after the snapshot again from its own log.
using System.Buffers.Binary;

namespace O3Storage.Cluster.Raft;

/// <summary>
/// Entries held back, not applied: DotNext's apply loop must not wait for a fetch (it holds a read lock
/// of the log, and the log's clean-up after the snapshot queues behind it, and every append behind that:
/// the member would stop answering the leader). In a file, not in memory: a fetch of a gigabyte takes
/// a while, and the entries meanwhile may carry small objects.
/// </summary>
internal sealed class DeferredEntries : IDisposable
{
    private readonly string _path;
    private readonly FileStream _file;

    public DeferredEntries(string path)
    {
        _path = path;
        _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 1 << 16, FileOptions.DeleteOnClose);
    }

    public long Count { get; private set; }

    /// <param name="hasRecord">False for an entry that carries no metadata record (the leader's empty entry, a configuration).</param>
    public void Add(long index, long term, ReadOnlySpan<byte> record, bool hasRecord)
    {
        Span<byte> header = stackalloc byte[20];
        BinaryPrimitives.WriteInt64LittleEndian(header, index);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], term);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], hasRecord ? record.Length : -1);
        _file.Write(header);
        _file.Write(record);
        Count++;
    }

    /// <summary>What was added, in order (each record a new array).</summary>
    public IEnumerable<(long Index, long Term, byte[]? Record)> ReadAll()
    {
        _file.Flush();
        _file.Position = 0;
        byte[] header = new byte[20];
        for (long i = 0; i < Count; i++)
        {
            _file.ReadExactly(header);
            int length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(16));
            byte[]? record = null;
            if (length >= 0)
            {
                record = new byte[length];
                _file.ReadExactly(record);
            }

            yield return (BinaryPrimitives.ReadInt64LittleEndian(header), BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(8)), record);
        }
    }

    public override string ToString() => $"{Count} entries held back in {_path}";

    public void Dispose() => _file.Dispose();
}
