using System.Device.I2c;

namespace O3Storage.Firmware.Tests;

/// <summary>
/// An I2C chip in memory as a register file: a one-byte write selects a register, longer writes store
/// bytes from it on, reads return bytes from it on. When <see cref="Answers"/> is false every transfer
/// fails as a NACK does (nobody at that address).
/// </summary>
internal sealed class SimulatedI2cDevice(int bus, int address) : I2cDevice
{
    private int _pointer;

    public byte[] Registers { get; } = new byte[256];

    public bool Answers { get; set; } = true;

    public bool Disposed { get; private set; }

    public override I2cConnectionSettings ConnectionSettings { get; } = new(bus, address);

    public override void Read(Span<byte> buffer)
    {
        Nack();
        Registers.AsSpan(_pointer, buffer.Length).CopyTo(buffer);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Nack();
        _pointer = buffer[0];
        buffer[1..].CopyTo(Registers.AsSpan(_pointer));
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    protected override void Dispose(bool disposing)
    {
        Disposed = true;
        base.Dispose(disposing);
    }

    private void Nack()
    {
        if (!Answers)
        {
            throw new IOException("Error 6 performing I2C data transfer (no device answered)");
        }
    }
}
