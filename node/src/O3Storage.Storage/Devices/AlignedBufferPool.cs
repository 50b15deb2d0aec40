namespace O3Storage.Storage.Devices;

/// <summary>
/// Keeps a few aligned IO buffers of one size for reuse: a blob read then costs no allocation and no
/// page faults. Buffers returned after the pool is disposed (a stream that outlived its store) are freed.
/// </summary>
internal sealed class AlignedBufferPool(int bufferBytes, int keep) : IDisposable
{
    private readonly Stack<AlignedBuffer> _free = new();
    private bool _disposed;

    public AlignedBuffer Rent()
    {
        lock (_free)
        {
            if (_free.TryPop(out AlignedBuffer? buffer))
            {
                return buffer;
            }
        }

        return new AlignedBuffer(bufferBytes, clear: false);
    }

    public void Return(AlignedBuffer buffer)
    {
        lock (_free)
        {
            if (!_disposed && _free.Count < keep)
            {
                _free.Push(buffer);
                return;
            }
        }

        buffer.Dispose();
    }

    public void Dispose()
    {
        lock (_free)
        {
            _disposed = true;
            while (_free.TryPop(out AlignedBuffer? buffer))
            {
                buffer.Dispose();
            }
        }
    }
}
