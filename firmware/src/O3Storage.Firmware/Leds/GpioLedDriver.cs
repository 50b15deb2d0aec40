// Owns: one LED wired to a GPIO pin (through a resistor, or a transistor for active-low wiring).
// Assumes: a pin can only be on or off, so the animator changes it at every step boundary.
// Faults: open and write errors of System.Device.Gpio become LedDriverException; Dispose switches the
// LED off, releases the pin and never throws.
using System.Device.Gpio;
using System.Device.Gpio.Drivers;
using System.Diagnostics.CodeAnalysis;

namespace O3Storage.Firmware.Leds;

public sealed class GpioLedDriver : ILedDriver
{
    private readonly GpioController _controller;
    private readonly int _pin;
    private readonly bool _activeLow;
    private bool _disposed;

    /// <summary>Opens <paramref name="pin"/> as an output, LED off.</summary>
    /// <param name="driver">The GPIO driver; this LED owns it from now on and disposes it.</param>
    /// <param name="pin">The pin number in the driver's (logical, BCM) numbering.</param>
    /// <param name="activeLow">The LED lights when the pin is low.</param>
    /// <exception cref="LedDriverException">The pin cannot be opened as an output.</exception>
    public GpioLedDriver(GpioDriver driver, int pin, bool activeLow)
    {
        ArgumentNullException.ThrowIfNull(driver);
        ArgumentOutOfRangeException.ThrowIfNegative(pin);
        _pin = pin;
        _activeLow = activeLow;
        _controller = new GpioController(driver);
        try
        {
            _controller.OpenPin(pin, PinMode.Output, Level(false));
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            _controller.Dispose();
            throw new LedDriverException($"cannot open GPIO {pin} as an output: {e.Message}", e);
        }

        Name = $"gpio:{pin}";
    }

    public string Name { get; }

    /// <summary>Opens <paramref name="pin"/> of /dev/gpiochip<paramref name="chip"/> through libgpiod.</summary>
    public static bool TryOpen(int chip, int pin, bool activeLow, [NotNullWhen(true)] out GpioLedDriver? driver, out string reason)
    {
        GpioDriver? gpio = null;
        try
        {
            gpio = new LibGpiodDriver(chip);
            driver = new GpioLedDriver(gpio, pin, activeLow);
            reason = "";
            return true;
        }
        catch (LedDriverException e)
        {
            reason = e.Message;
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            gpio?.Dispose();
            reason = $"cannot open /dev/gpiochip{chip}: {e.Message}";
        }

        driver = null;
        return false;
    }

    public bool CanRun(LedPattern pattern) => false;

    public void Run(LedPattern pattern) =>
        throw new InvalidOperationException("a GPIO LED cannot run a pattern by itself; the animator drives its phases");

    public void SetPhase(bool on, LedColor color)
    {
        try
        {
            _controller.Write(_pin, Level(on));
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            throw new LedDriverException($"cannot write GPIO {_pin}: {e.Message}", e);
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
            _controller.Write(_pin, Level(false));
            _controller.ClosePin(_pin);
        }
        catch (Exception e) when (HardwareErrors.IsOperatingError(e))
        {
            // The pin is gone with its chip; closing the controller below is all that is left.
        }

        _controller.Dispose();
    }

    private PinValue Level(bool on) => on != _activeLow ? PinValue.High : PinValue.Low;
}
