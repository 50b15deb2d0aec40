using System.Buffers.Binary;
using System.Numerics;

namespace O3Storage.Storage.Format;

/// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it (SSE4.2, ARMv8 CRC).</summary>
internal static class Crc32C
{
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
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
}
