using System.Text;
using O3Storage.Storage.Format;

namespace O3Storage.Storage.Tests;

/// <summary>The format's CRC is standard CRC-32C (Castagnoli): other tools must be able to check it.</summary>
public sealed class Crc32CTests
{
    [Fact]
    public void KnownVectors()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8)); // the CRC catalogue's check value
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32])); // RFC 3720 (iSCSI) B.4: 32 zero bytes
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray())); // 32 bytes of 0xFF
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray())); // 0x00..0x1F
    }

    [Theory]
    [InlineData(0)]
    [InlineData(24_575)]
    [InlineData(24_576)]
    [InlineData(24_577)]
    [InlineData(100_003)]
    [InlineData(1 << 20)]
    public void LongInputs_ThreeLanesJoined_EqualTheBitwiseDefinition(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(Bitwise(data), Crc32C.Compute(data));
    }

    [Fact]
    public void AppendInPieces_EqualsOneComputation()
    {
        byte[] data = Encoding.ASCII.GetBytes("The quick brown fox jumps over the lazy dog, 0123456789!");
        for (int split = 0; split <= data.Length; split++)
        {
            uint crc = ~Crc32C.Append(Crc32C.Append(~0u, data.AsSpan(0, split)), data.AsSpan(split));
            Assert.Equal(Crc32C.Compute(data), crc);
        }
    }

    /// <summary>CRC-32C by its definition, one bit at a time: slow and obviously right.</summary>
    private static uint Bitwise(byte[] data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
