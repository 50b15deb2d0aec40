using System.Buffers.Binary;
using System.Text;

namespace O3Storage.Cluster.Metadata;

/// <summary>Reader twin of <see cref="BinaryRecordWriter"/>; a short or malformed record is a <see cref="MetadataFormatException"/>.</summary>
internal ref struct BinaryRecordReader(ReadOnlySpan<byte> data)
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ReadOnlySpan<byte> _rest = data;

    public readonly bool IsEmpty => _rest.IsEmpty;

    public byte ReadByte() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public Guid ReadGuid() => new(Take(16));

    public UInt128 ReadUInt128() => BinaryPrimitives.ReadUInt128LittleEndian(Take(16));

    public ReadOnlySpan<byte> ReadBlock()
    {
        int length = ReadInt32();
        return length >= 0 ? Take(length) : throw new MetadataFormatException("metadata record holds a negative block length");
    }

    public string ReadString()
    {
        int length = ReadUInt16();
        try
        {
            return s_strictUtf8.GetString(Take(length));
        }
        catch (DecoderFallbackException)
        {
            throw new MetadataFormatException("metadata record holds a string that is not valid UTF-8");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_rest.Length < count)
        {
            throw new MetadataFormatException($"metadata record is truncated: needed {count} more bytes, {_rest.Length} left");
        }

        ReadOnlySpan<byte> taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
