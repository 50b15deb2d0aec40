// Owns: CRC-32C (Castagnoli), on the CPU's CRC instruction (SSE4.2, ARMv8 CRC) through
// BitOperations.Crc32C. One instruction stream is bound by the instruction's 3-cycle latency, so long
// inputs run three independent streams over three lanes and join them: the CRC register is linear, so
// CRC(A || B) = shift(CRC(A), |B|) xor CRC_from_zero(B), where shift multiplies by x^(8|B|) modulo the
// polynomial (zlib's crc32_combine). That makes checksumming about three times faster, which is what
// stands between a chunk's IO and the next one on every put and read.
using System.Buffers.Binary;
using System.Numerics;

namespace O3Storage.Storage.Format;

public static class Crc32C
{
    /// <summary>Bytes per lane: three lanes (24 KiB) stay in L1 cache.</summary>
    private const int LaneBytes = 8192;

    private const uint ReflectedPolynomial = 0x82F63B78;

    /// <summary>x^(8 * LaneBytes) and x^(16 * LaneBytes) modulo the polynomial, reflected.</summary>
    private static readonly uint s_shiftOneLane = PowerOfX(8L * LaneBytes);
    private static readonly uint s_shiftTwoLanes = PowerOfX(16L * LaneBytes);

    /// <summary>Continues the raw CRC register <paramref name="crc"/> (start with ~0, finish with ~) over <paramref name="data"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 3 * LaneBytes)
        {
            ReadOnlySpan<byte> a = data[..LaneBytes];
            ReadOnlySpan<byte> b = data.Slice(LaneBytes, LaneBytes);
            ReadOnlySpan<byte> c = data.Slice(2 * LaneBytes, LaneBytes);
            uint crcA = crc;
            uint crcB = 0;
            uint crcC = 0;
            for (int i = 0; i < LaneBytes; i += 8)
            {
                crcA = BitOperations.Crc32C(crcA, BinaryPrimitives.ReadUInt64LittleEndian(a[i..]));
                crcB = BitOperations.Crc32C(crcB, BinaryPrimitives.ReadUInt64LittleEndian(b[i..]));
                crcC = BitOperations.Crc32C(crcC, BinaryPrimitives.ReadUInt64LittleEndian(c[i..]));
            }

            crc = Multiply(crcA, s_shiftTwoLanes) ^ Multiply(crcB, s_shiftOneLane) ^ crcC;
            data = data[(3 * LaneBytes)..];
        }

        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>a * b modulo the polynomial, both reflected (bit 31 is x^0).</summary>
    internal static uint Multiply(uint a, uint b)
    {
        uint product = 0;
        for (uint m = 1u << 31; m != 0; m >>= 1)
        {
            if ((a & m) != 0)
            {
                product ^= b;
            }

            b = (b & 1) != 0 ? (b >> 1) ^ ReflectedPolynomial : b >> 1;
        }

        return product;
    }

    /// <summary>x^<paramref name="n"/> modulo the polynomial, reflected, by square and multiply.</summary>
    internal static uint PowerOfX(long n)
    {
        uint result = 1u << 31; // x^0
        uint square = 1u << 30; // x^1
        for (; n > 0; n >>= 1)
        {
            if ((n & 1) != 0)
            {
                result = Multiply(result, square);
            }

            square = Multiply(square, square);
        }

        return result;
    }
}
