using O3Storage.Storage.Devices;

namespace O3Storage.Storage.Tests;

/// <summary>
/// A memory device that keeps every write, in order, so a test can replay any prefix of them. It also
/// enforces the write-ordering contract: a durable write while unsynced writes are still unflushed could
/// reach the media before them, so it fails the test at once.
/// </summary>
internal sealed class RecordingBlockDevice(byte[] content) : MemoryBlockDevice(content)
{
    private int _unflushed;

    public List<(long Offset, byte[] Data)> Writes { get; } = [];

    public override void Write(long offsetBytes, ReadOnlySpan<byte> source)
    {
        if (_unflushed > 0)
        {
            throw new InvalidOperationException($"durable write at {offsetBytes} while {_unflushed} unsynced writes are not flushed: it may reach the media first");
        }

        base.Write(offsetBytes, source);
        Writes.Add((offsetBytes, source.ToArray()));
    }

    public override void WriteUnsynced(long offsetBytes, ReadOnlySpan<byte> source)
    {
        base.Write(offsetBytes, source);
        Writes.Add((offsetBytes, source.ToArray()));
        _unflushed++;
    }

    public override void Flush() => _unflushed = 0;

    public override void Discard(long offsetBytes, long lengthBytes)
    {
        base.Discard(offsetBytes, lengthBytes);
        Writes.Add((offsetBytes, new byte[lengthBytes]));
    }
}
