// Owns: the board as the node sees it: one status LED (the first of the profile's LEDs that opens,
// else the console stand-in), the temperature and the background work factor derived from it.
// Assumes: the node owns one monitor for its lifetime, calls SetStatus whenever its status changes
// and Snapshot on each /health or /metrics request; the temperature is read at most once per
// second whatever the request rate, on the injected clock.
// Faults: nothing that a board lacks or refuses (no LED, no permission, no sensor, no libgpiod) is an
// exception: it becomes the console LED or "no sensor", and the reason is kept in Notes for the log.
// After Dispose, SetStatus is ignored (the node may race its own shutdown) and the LED is back in
// its default state.
using O3Storage.Firmware.Boards;
using O3Storage.Firmware.Leds;
using O3Storage.Firmware.Sensors;
using O3Storage.Firmware.Status;

namespace O3Storage.Firmware;

public sealed class HardwareMonitor : IDisposable
{
    /// <summary>Reads closer together than this return the previous value.</summary>
    public static readonly TimeSpan TemperatureReadInterval = TimeSpan.FromSeconds(1);

    private const string NoBoard = "no board";

    private readonly string _board;
    private readonly LedAnimator _animator;
    private readonly ThermalZones _thermalZones;
    private readonly IReadOnlyList<IEnvironmentSensor> _sensors;
    private readonly ThrottleLimits _limits;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private NodeStatus _status;
    private long? _temperatureReadAt;
    private double? _temperatureCelsius;
    private string _temperatureSource = "no sensor";
    private bool _disposed;

    internal HardwareMonitor(
        string board,
        ILedDriver led,
        ThermalZones thermalZones,
        IReadOnlyList<IEnvironmentSensor> sensors,
        ThrottleLimits limits,
        TimeProvider time,
        IReadOnlyList<string> notes)
    {
        _board = board;
        _thermalZones = thermalZones;
        _sensors = sensors;
        _limits = limits;
        _time = time;
        Notes = notes;
        _animator = new LedAnimator(led, time);
        _status = NodeStatus.Booting;
        _animator.Show(LedPatterns.For(_status));
    }

    /// <summary>What did not open and why (e.g. "sysfs ACT: no LED at /sys/class/leds/ACT"), for the node's log.</summary>
    public IReadOnlyList<string> Notes { get; }

    public NodeStatus Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    /// <summary>The last LED driver error (e.g. permission lost), or null while the LED works.</summary>
    public string? LedError => _animator.LastError;

    /// <summary>
    /// Opens the board described by <paramref name="profile"/> (null: no profile, console LED, any
    /// thermal zone) whose file system is at <paramref name="rootDirectory"/> ("/" on the board).
    /// GPIO, SPI and I2C devices are opened only when the root is "/": the libraries open /dev directly.
    /// Starts showing <see cref="NodeStatus.Booting"/>.
    /// </summary>
    public static HardwareMonitor Open(BoardProfile? profile, string rootDirectory, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        ArgumentNullException.ThrowIfNull(time);
        var notes = new List<string>();
        bool realRoot = Path.GetFullPath(rootDirectory) == "/";
        ILedDriver? led = null;
        foreach (LedSpec spec in profile?.Leds ?? [])
        {
            led = OpenLed(spec, rootDirectory, realRoot, notes);
            if (led is not null)
            {
                break;
            }
        }

        if (led is null)
        {
            notes.Add(profile is null ? "no board profile: LED patterns are only reported" : $"no LED of {profile.Name} opened: LED patterns are only reported");
            led = new ConsoleLedDriver();
        }

        var sensors = new List<IEnvironmentSensor>();
        foreach (I2cSensorSpec spec in profile?.I2cSensors ?? [])
        {
            if (!realRoot)
            {
                notes.Add($"{spec}: not opened (devices are opened only under the root /)");
            }
            else if (Bme280Sensor.TryOpen(spec, out Bme280Sensor? sensor, out string reason))
            {
                sensors.Add(sensor);
            }
            else
            {
                notes.Add(reason);
            }
        }

        var thermalZones = new ThermalZones(Path.Combine(rootDirectory, "sys/class/thermal"), profile?.ThermalZones ?? []);
        return new HardwareMonitor(profile?.Name ?? NoBoard, led, thermalZones, sensors, profile?.Throttle ?? ThrottleLimits.Default, time, notes);
    }

    /// <summary>Shows the pattern of <paramref name="status"/> at once; the same status again changes nothing.</summary>
    public void SetStatus(NodeStatus status)
    {
        LedPattern pattern = LedPatterns.For(status);
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _status = status;
            _animator.Show(pattern);
        }
    }

    /// <summary>The current state; the temperature is re-read only when the last read is <see cref="TemperatureReadInterval"/> old.</summary>
    public HardwareSnapshot Snapshot()
    {
        lock (_lock)
        {
            if (_temperatureReadAt is not { } readAt || _time.GetElapsedTime(readAt) >= TemperatureReadInterval)
            {
                ReadTemperature();
                _temperatureReadAt = _time.GetTimestamp();
            }

            return new HardwareSnapshot(
                _board,
                _animator.DriverName,
                _animator.Pattern?.Name ?? LedPatterns.Off.Name,
                _temperatureCelsius,
                _temperatureSource,
                ThermalThrottle.BackgroundWorkFactor(_temperatureCelsius, _limits));
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _animator.Dispose();
            foreach (IEnvironmentSensor sensor in _sensors)
            {
                sensor.Dispose();
            }
        }
    }

    /// <summary>The SoC's thermal zones first (they drive throttling); an environment sensor only when the board has none.</summary>
    private void ReadTemperature()
    {
        if (_thermalZones.TryReadCelsius(out double celsius, out string source))
        {
            _temperatureCelsius = celsius;
            _temperatureSource = source;
            return;
        }

        if (!_disposed)
        {
            foreach (IEnvironmentSensor sensor in _sensors)
            {
                if (sensor.TryReadCelsius(out celsius, out _))
                {
                    _temperatureCelsius = celsius;
                    _temperatureSource = sensor.Name;
                    return;
                }
            }
        }

        _temperatureCelsius = null;
        _temperatureSource = source;
    }

    private static ILedDriver? OpenLed(LedSpec spec, string rootDirectory, bool realRoot, List<string> notes)
    {
        switch (spec)
        {
            case SysfsLedSpec sysfs:
                foreach (string name in sysfs.Names)
                {
                    if (SysfsLedDriver.TryOpen(Path.Combine(rootDirectory, "sys/class/leds", name), out SysfsLedDriver? driver, out string reason))
                    {
                        return driver;
                    }

                    notes.Add($"sysfs {name}: {reason}");
                }

                return null;
            case GpioLedSpec gpio when realRoot:
                {
                    if (GpioLedDriver.TryOpen(gpio.Chip, gpio.Pin, gpio.ActiveLow, out GpioLedDriver? driver, out string reason))
                    {
                        return driver;
                    }

                    notes.Add($"gpio {gpio.Pin}: {reason}");
                    return null;
                }

            case Ws2812bLedSpec strip when realRoot:
                {
                    if (AddressableLedDriver.TryOpen(strip.SpiBus, strip.ChipSelect, strip.Pixels, out AddressableLedDriver? driver, out string reason))
                    {
                        return driver;
                    }

                    notes.Add($"ws2812b spi{strip.SpiBus}.{strip.ChipSelect}: {reason}");
                    return null;
                }

            default:
                notes.Add($"{spec.Driver} LED: not opened (devices are opened only under the root /)");
                return null;
        }
    }
}
