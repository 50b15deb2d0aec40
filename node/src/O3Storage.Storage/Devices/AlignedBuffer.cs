using System.Runtime.InteropServices;

namespace O3Storage.Storage.Devices;

/// <summary>Native memory aligned for O_DIRECT; owned by one user at a time, freed on dispose.</summary>
public sealed unsafe class AlignedBuffer : IDisposable
{
    private void* _pointer;

    /// <param name="clear">Zero the memory; a buffer that is always read into before use need not be.</param>
    public AlignedBuffer(int lengthBytes, int alignmentBytes = 4096, bool clear = true)
    {
        if (lengthBytes <= 0 || lengthBytes % alignmentBytes != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(lengthBytes), lengthBytes, $"must be a positive multiple of {alignmentBytes}");
        }

        LengthBytes = lengthBytes;
        _pointer = NativeMemory.AlignedAlloc((nuint)lengthBytes, (nuint)alignmentBytes);
        if (clear)
        {
            NativeMemory.Clear(_pointer, (nuint)lengthBytes);
        }
    }

    public int LengthBytes { get; }

    public Span<byte> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer is null, this);
            return new Span<byte>(_pointer, LengthBytes);
        }
    }

    public void Dispose()
    {
        if (_pointer is not null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
    }
}
