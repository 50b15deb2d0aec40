// Owns: streaming one blob off the device in aligned chunks. The first read takes the header block
// with the first chunk of payload (a blob of up to one chunk is one IO); the header is checked first
// (a record moved or overwritten under a stale index entry is caught here); the payload checksum is
// verified as the last byte is handed out, so a corrupt blob never reads to a clean end. While the
// caller consumes one chunk, the next is already being read (a second pooled buffer), so checksum
// and copy overlap the device.
using O3Storage.Storage.Devices;
using O3Storage.Storage.Format;

namespace O3Storage.Storage;

internal sealed class BlobReadStream : Stream
{
    private readonly IBlockDevice _device;
    private readonly BlobId _id;
    private readonly BlobStore.Location _location;
    private readonly AlignedBufferPool _pool;
    private readonly long _recordEnd;
    private AlignedBuffer _buffer;
    private AlignedBuffer? _ahead;
    private Task<int>? _aheadRead;
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
        _recordEnd = location.OffsetBytes + location.RecordBytes;
        StartReadAhead();
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
            Task<int> pending = _aheadRead ?? throw new InvalidOperationException("blob stream has no chunk in flight");
            _aheadRead = null;
            int length = pending.GetAwaiter().GetResult();
            (_buffer, _ahead) = (_ahead!, _buffer);
            _bufferStart = 0;
            _bufferEnd = (int)Math.Min(length, _location.LengthBytes - _position);
            StartReadAhead();
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

    /// <summary>Starts reading the record's next chunk into the spare buffer, if any of the record is left.</summary>
    private void StartReadAhead()
    {
        int length = (int)Math.Min(_buffer.LengthBytes, _recordEnd - _nextDeviceOffset);
        if (length <= 0)
        {
            return;
        }

        AlignedBuffer target = _ahead ??= _pool.Rent();
        long offset = _nextDeviceOffset;
        _nextDeviceOffset += length;
        _aheadRead = Task.Run(() =>
        {
            _device.Read(offset, target.Span[..length]);
            return length;
        });
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
            try
            {
                _aheadRead?.Wait(); // never return a buffer a read is still filling
            }
            catch (AggregateException)
            {
                // The blob was abandoned; its read-ahead error does not matter.
            }

            _pool.Return(_buffer);
            if (_ahead is not null)
            {
                _pool.Return(_ahead);
            }
        }

        base.Dispose(disposing);
    }
}
