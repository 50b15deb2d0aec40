using O3Storage.Storage.Devices;

namespace O3Storage.Storage.Tests;

/// <summary>A memory device that keeps every write, in order, so a test can replay any prefix of them.</summary>
internal sealed class RecordingBlockDevice(byte[] content) : MemoryBlockDevice(content)
{
    public List<(long Offset, byte[] Data)> Writes { get; } = [];

    public override void Write(long offsetBytes, ReadOnlySpan<byte> source)
    {
        base.Write(offsetBytes, source);
        Writes.Add((offsetBytes, source.ToArray()));
    }

    public override void Discard(long offsetBytes, long lengthBytes)
    {
        base.Discard(offsetBytes, lengthBytes);
        Writes.Add((offsetBytes, new byte[lengthBytes]));
    }
}
