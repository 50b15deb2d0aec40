// Owns: reading a metadata snapshot from a stream record by record, through one window of the stream
// instead of the whole file in memory (a snapshot of 5 million objects is a gigabyte; a byte array
// stops at 2 GiB).
// Assumes: the decoder reads the snapshot as a sequence of records, each whole through Read; the
// format has no record boundaries of its own, so a record that runs past the window is read again
// from its start after the window has grown or been refilled.
// Faults: a snapshot that ends inside a record is a truncated MetadataFormatException; one record
// larger than RecordBytesMax is a MetadataFormatException instead of a window that grows to the file.
namespace O3Storage.Cluster.Metadata;

internal sealed class SnapshotSource(Stream stream, int windowBytes = SnapshotSource.WindowBytesDefault)
{
    public const int WindowBytesDefault = 1 << 20;

    /// <summary>No record a node writes comes near this (a 10,000-part upload is a few megabytes).</summary>
    public const int RecordBytesMax = 256 << 20;

    private byte[] _window = new byte[windowBytes];
    private int _start;
    private int _end;
    private bool _ended;

    /// <summary>Reads one record with a <see cref="BinaryRecordReader"/> over the window.</summary>
    public delegate T Record<out T>(ref BinaryRecordReader reader);

    /// <summary>Whether every byte of the stream has been read into records.</summary>
    public bool AtEnd
    {
        get
        {
            Fill();
            return _ended && _start == _end;
        }
    }

    /// <summary>Decodes the next record; the stream advances past it only when it decoded whole.</summary>
    public T Read<T>(Record<T> read)
    {
        if (_end - _start < _window.Length / 2)
        {
            Fill();
        }

        while (true)
        {
            var reader = new BinaryRecordReader(_window.AsSpan(_start, _end - _start));
            try
            {
                T value = read(ref reader);
                _start = _end - reader.Remaining;
                return value;
            }
            catch (MetadataFormatException e) when (e.Truncated && !_ended)
            {
                // The record runs past what the window holds: make room for more of the stream and read it again.
                if (_end - _start == _window.Length)
                {
                    Grow();
                }

                Fill();
            }
        }
    }

    private void Grow()
    {
        if (_window.Length >= RecordBytesMax)
        {
            throw new MetadataFormatException($"metadata snapshot holds a record larger than {RecordBytesMax >> 20} MiB");
        }

        byte[] larger = new byte[Math.Min((long)_window.Length * 2, RecordBytesMax)];
        _window.AsSpan(_start, _end - _start).CopyTo(larger);
        _end -= _start;
        _start = 0;
        _window = larger;
    }

    /// <summary>Moves what is left to the start of the window and reads the stream until the window is full or the stream ends.</summary>
    private void Fill()
    {
        if (_ended)
        {
            return;
        }

        if (_start > 0)
        {
            _window.AsSpan(_start, _end - _start).CopyTo(_window);
            _end -= _start;
            _start = 0;
        }

        while (_end < _window.Length)
        {
            int read = stream.Read(_window, _end, _window.Length - _end);
            if (read == 0)
            {
                _ended = true;
                return;
            }

            _end += read;
        }
    }
}
