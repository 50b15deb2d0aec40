// Owns: a WS2812B strip (or a single pixel) on an SPI bus, every pixel showing the status color.
// Assumes: the strip cannot run a pattern by itself, so the animator sends a frame at every step
// boundary: the pattern's color in the on-phase, black in the off-phase. SPI at 2.4 MHz, the bit
// encoding Iot.Device.Ws28xx expects (three SPI bits per color bit).
// Faults: SPI errors become LedDriverException; Dispose sends a black frame, releases the bus and
// never throws.
using System.Device.Spi;
using System.Diagnostics.CodeAnalysis;
using System.Drawing;
using Iot.Device.Ws28xx;

namespace O3Storage.Firmware.Leds;

public sealed class AddressableLedDriver : ILedDriver
{
    private const int SpiClockHz = 2_400_000;

    private readonly SpiDevice _spi;
    private readonly Ws2812b _strip;
    private bool _disposed;

    /// <param name="spi">The SPI device the strip's data line hangs on; this LED owns it from now on.</param>
    /// <param name="pixels">How many pixels the strip has; all show the same color.</param>
    public AddressableLedDriver(SpiDevice spi, int pixels)
    {
        ArgumentNullException.ThrowIfNull(spi);
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels, 1);
        _spi = spi;
        _strip = new Ws2812b(spi, pixels);
        Pixels = pixels;
        Name = $"ws2812b:spi{spi.ConnectionSettings.BusId}.{spi.ConnectionSettings.ChipSelectLine}";
    }

    public string Name { get; }

    public int Pixels { get; }

    /// <summary>Opens /dev/spidev<paramref name="bus"/>.<paramref name="chipSelect"/> and blanks the strip.</summary>
    public static bool TryOpen(int bus, int chipSelect, int pixels, [NotNullWhen(true)] out AddressableLedDriver? driver, out string reason)
    {
        SpiDevice? spi = null;
        try
        {
            var settings = new SpiConnectionSettings(bus, chipSelect)
            {
                ClockFrequency = SpiClockHz,
                Mode = SpiMode.Mode0,
                DataBitLength = 8,
            };
            spi = SpiDevice.Create(settings);
            driver = new AddressableLedDriver(spi, pixels);
            driver.SetPhase(false, LedColor.Black);
            reason = "";
            return true;
        }
        catch (LedDriverException e)
        {
            spi?.Dispose();
            reason = e.Message;
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            spi?.Dispose();
            reason = $"cannot open /dev/spidev{bus}.{chipSelect}: {e.Message}";
        }

        driver = null;
        return false;
    }

    public bool CanRun(LedPattern pattern) => false;

    public void Run(LedPattern pattern) =>
        throw new InvalidOperationException("a WS2812B cannot run a pattern by itself; the animator drives its phases");

    public void SetPhase(bool on, LedColor color)
    {
        LedColor shown = on ? color : LedColor.Black;
        try
        {
            _strip.Image.Clear(Color.FromArgb(shown.R, shown.G, shown.B));
            _strip.Update();
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            throw new LedDriverException($"cannot write to {Name}: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            SetPhase(false, LedColor.Black);
        }
        catch (LedDriverException)
        {
            // The bus is gone; the strip keeps its last frame and there is nothing more to do.
        }

        _spi.Dispose();
    }
}
