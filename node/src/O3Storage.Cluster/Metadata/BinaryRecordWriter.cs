using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace O3Storage.Cluster.Metadata;

/// <summary>Little-endian writer for metadata records: fixed-width integers, length-prefixed UTF-8, GUIDs.</summary>
internal sealed class BinaryRecordWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    public BinaryRecordWriter(int initialCapacity = 256)
    {
        _buffer = new ArrayBufferWriter<byte>(initialCapacity);
    }

    /// <summary>Bytes written since the writer was made or last <see cref="Clear"/>ed.</summary>
    public int Length => _buffer.WrittenCount;

    /// <summary>The bytes written so far; valid until the next write or <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.WrittenMemory;

    /// <summary>Starts over in the same buffer (a snapshot is written in chunks through one).</summary>
    public void Clear() => _buffer.ResetWrittenCount();

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteUInt128(UInt128 value)
    {
        BinaryPrimitives.WriteUInt128LittleEndian(_buffer.GetSpan(16), value);
        _buffer.Advance(16);
    }

    public void WriteGuid(Guid value)
    {
        value.TryWriteBytes(_buffer.GetSpan(16));
        _buffer.Advance(16);
    }

    public void WriteString(string value)
    {
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "string longer than 65535 UTF-8 bytes");
        }

        WriteUInt16((ushort)length);
        Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
        _buffer.Advance(length);
    }

    /// <summary>A length-prefixed (u32) run of bytes.</summary>
    public void WriteBlock(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        value.CopyTo(_buffer.GetSpan(value.Length));
        _buffer.Advance(value.Length);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();
}
