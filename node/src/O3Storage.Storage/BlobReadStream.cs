// Owns: streaming one blob off the device in aligned chunks. The first read takes the header block
// with the first chunk of payload (a blob of up to one chunk is one IO); the header is checked first
// (a record moved or overwritten under a stale index entry is caught here); the payload checksum is
// verified as the last byte is handed out, so a corrupt blob never reads to a clean end.
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Storage;

internal sealed class BlobReadStream : Stream
{
    private readonly IBlockDevice _device;
    private readonly BlobId _id;
    private readonly BlobStore.Location _location;
    private readonly AlignedBuffer _buffer;
    private readonly AlignedBufferPool _pool;
    private int _bufferStart;
    private int _bufferEnd;
    private long _position;
    private long _nextDeviceOffset;
    private uint _crc = ~0u;
    private bool _returned;

    public BlobReadStream(IBlockDevice device, BlobId id, BlobStore.Location location, uint salt, AlignedBufferPool pool)
    {
        _device = device;
        _id = id;
        _location = location;
        _pool = pool;
        _buffer = pool.Rent();
        int firstBytes = (int)Math.Min(_buffer.LengthBytes, location.RecordBytes);
        Span<byte> first = _buffer.Span[..firstBytes];
        try
        {
            device.Read(location.OffsetBytes, first);
        }
        catch
        {
            pool.Return(_buffer);
            throw;
        }

        if (!RecordHeader.TryRead(first, salt, out RecordHeader header)
            || header.Kind != RecordKind.Put || header.Id != id || header.Sequence != location.Sequence
            || header.PayloadLengthBytes != location.LengthBytes || header.PayloadCrc != location.Crc)
        {
            pool.Return(_buffer);
            throw new ChecksumMismatchException($"blob {id}: the record header at device offset {location.OffsetBytes} is damaged or not this blob's");
        }

        _bufferStart = RecordHeader.SizeBytes;
        _bufferEnd = (int)Math.Min(firstBytes, RecordHeader.SizeBytes + location.LengthBytes);
        _nextDeviceOffset = location.OffsetBytes + firstBytes;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _location.LengthBytes;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        if (_position == _location.LengthBytes || destination.IsEmpty)
        {
            return 0;
        }

        if (_bufferStart == _bufferEnd)
        {
            long remaining = _location.LengthBytes - _position;
            int length = (int)Math.Min(_buffer.LengthBytes, (remaining + BlobStore.BlockBytes - 1) / BlobStore.BlockBytes * BlobStore.BlockBytes);
            _device.Read(_nextDeviceOffset, _buffer.Span[..length]);
            _nextDeviceOffset += length;
            _bufferStart = 0;
            _bufferEnd = (int)Math.Min(length, remaining);
        }

        int take = Math.Min(destination.Length, _bufferEnd - _bufferStart);
        ReadOnlySpan<byte> chunk = _buffer.Span.Slice(_bufferStart, take);
        _crc = Crc32C.Append(_crc, chunk);
        chunk.CopyTo(destination);
        _bufferStart += take;
        _position += take;
        if (_position == _location.LengthBytes && ~_crc != _location.Crc)
        {
            throw new ChecksumMismatchException($"blob {_id}: payload checksum mismatch (stored {_location.Crc:x8}, read {~_crc:x8})");
        }

        return take;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_returned)
        {
            _returned = true;
            _pool.Return(_buffer);
        }

        base.Dispose(disposing);
    }
}
