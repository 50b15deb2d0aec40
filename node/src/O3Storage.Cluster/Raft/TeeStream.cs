// Owns: reading a stream once while keeping a copy of every byte read in a file: a snapshot fetched by
// reference is read back into the state while it arrives, not after.
namespace O3Storage.Cluster.Raft;

/// <summary>A read-only stream over <paramref name="source"/> that writes what it reads to <paramref name="copy"/>.</summary>
internal sealed class TeeStream(Stream source, Stream copy) : Stream
{
    public long Copied { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Copied; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = source.Read(buffer);
        copy.Write(buffer[..read]);
        Copied += read;
        return read;
    }

    /// <summary>Reads (and copies) whatever is left of the source.</summary>
    public void Drain()
    {
        byte[] rest = new byte[1 << 16];
        while (Read(rest, 0, rest.Length) > 0)
        {
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
