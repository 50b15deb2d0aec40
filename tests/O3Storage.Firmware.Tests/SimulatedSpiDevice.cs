using System.Device.Spi;
using O3Storage.Firmware.Leds;

namespace O3Storage.Firmware.Tests;

/// <summary>An SPI bus in memory: keeps every frame written, and decodes WS2812B frames back to colors.</summary>
internal sealed class SimulatedSpiDevice : SpiDevice
{
    public List<byte[]> Frames { get; } = [];

    public bool Disposed { get; private set; }

    public override SpiConnectionSettings ConnectionSettings { get; } = new(0, 0);

    public override void Write(ReadOnlySpan<byte> buffer) => Frames.Add(buffer.ToArray());

    public override void Read(Span<byte> buffer) => throw new NotSupportedException();

    public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }

    /// <summary>
    /// The pixel colors of a frame: 9 bytes per pixel, green, red, blue, each color bit sent as three
    /// SPI bits, 110 for a one and 100 for a zero (what the strip's 2.4 MHz timing needs).
    /// </summary>
    public static List<LedColor> DecodeWs2812b(byte[] frame, int pixels)
    {
        var colors = new List<LedColor>();
        for (int pixel = 0; pixel < pixels; pixel++)
        {
            byte green = DecodeByte(frame.AsSpan(pixel * 9, 3));
            byte red = DecodeByte(frame.AsSpan((pixel * 9) + 3, 3));
            byte blue = DecodeByte(frame.AsSpan((pixel * 9) + 6, 3));
            colors.Add(new LedColor(red, green, blue));
        }

        return colors;
    }

    private static byte DecodeByte(ReadOnlySpan<byte> threeBytes)
    {
        int bits = (threeBytes[0] << 16) | (threeBytes[1] << 8) | threeBytes[2];
        int value = 0;
        for (int i = 7; i >= 0; i--)
        {
            int group = (bits >> (i * 3)) & 0b111;
            Assert.True(group is 0b100 or 0b110, $"not a WS2812B bit: {Convert.ToString(group, 2)}");
            value = (value << 1) | (group == 0b110 ? 1 : 0);
        }

        return (byte)value;
    }
}
