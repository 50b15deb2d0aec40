// Owns: reading a stream once while something watches every byte read: a snapshot fetched by reference
// is kept in a file while it is read into the state (MetadataStateMachine), and its transfer's stall
// timer restarts as bytes arrive (the node's PeerClient).
namespace O3Storage.Cluster.Raft;

/// <summary>A read-only stream over <paramref name="source"/> that hands <paramref name="observed"/> each run of bytes it reads, and counts them.</summary>
/// <param name="leaveOpen">Whether disposing this leaves <paramref name="source"/> open.</param>
public sealed class ObservedReadStream(Stream source, Action<ReadOnlySpan<byte>> observed, bool leaveOpen) : Stream
{
    /// <summary>Bytes read so far.</summary>
    public long Observed { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Observed; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Saw(buffer[..source.Read(buffer)]);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Saw(buffer.Span[..read]);
    }

    /// <summary>Reads (and hands on) whatever is left of the source.</summary>
    public void Drain()
    {
        byte[] rest = new byte[1 << 16];
        while (Read(rest, 0, rest.Length) > 0)
        {
        }
    }

    private int Saw(ReadOnlySpan<byte> bytes)
    {
        observed(bytes);
        Observed += bytes.Length;
        return bytes.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !leaveOpen)
        {
            source.Dispose();
        }

        base.Dispose(disposing);
    }
}
