using System.Buffers.Binary;
using System.Globalization;

namespace O3Storage.Storage;

/// <summary>The 128-bit name of a blob. Zero is reserved (segment bookkeeping records carry it).</summary>
public readonly record struct BlobId(UInt128 Value) : IComparable<BlobId>
{
    public int CompareTo(BlobId other) => Value.CompareTo(other.Value);

    public static BlobId NewRandom() => new(BinaryPrimitives.ReadUInt128LittleEndian(Guid.NewGuid().ToByteArray()));

    public static BlobId Parse(string hex) => new(UInt128.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    public override string ToString() => Value.ToString("x32", CultureInfo.InvariantCulture);

    internal void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt128LittleEndian(destination, Value);

    internal static BlobId ReadFrom(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt128LittleEndian(source));
}
