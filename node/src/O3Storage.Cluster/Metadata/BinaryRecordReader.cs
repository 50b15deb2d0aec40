using System.Buffers.Binary;
using System.Text;

namespace O3Storage.Cluster.Metadata;

/// <summary>Reader twin of <see cref="BinaryRecordWriter"/>; a short or malformed record is a <see cref="MetadataFormatException"/>.</summary>
internal ref struct BinaryRecordReader(ReadOnlySpan<byte> data)
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ReadOnlySpan<byte> _rest = data;

    public readonly bool IsEmpty => _rest.IsEmpty;

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _rest.Length;

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

    public string ReadString() => ReadStringOf(Take(ReadUInt16()));

    /// <summary>A string <paramref name="values"/> keeps one copy of (content types, node ids): no new string when it has it.</summary>
    public string ReadSharedString(SharedValues values)
    {
        int length = ReadUInt16();
        ReadOnlySpan<byte> bytes = Take(length);
        if (length > 256)
        {
            return values.String(ReadStringOf(bytes));
        }

        Span<char> chars = stackalloc char[length]; // UTF-8 never decodes to more UTF-16 units than it has bytes
        try
        {
            return values.String(chars[..s_strictUtf8.GetChars(bytes, chars)]);
        }
        catch (DecoderFallbackException)
        {
            throw NotUtf8();
        }
    }

    private static string ReadStringOf(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw NotUtf8();
        }
    }

    private static MetadataFormatException NotUtf8() => new("metadata record holds a string that is not valid UTF-8");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_rest.Length < count)
        {
            throw new MetadataFormatException($"metadata record is truncated: needed {count} more bytes, {_rest.Length} left") { Truncated = true };
        }

        ReadOnlySpan<byte> taken = _rest[..count];
        _rest = _rest[count..];
        return taken;
    }
}
