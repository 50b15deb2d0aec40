// Owns: turning a board profile file into a BoardProfile, or an error that names the file, the
// field and what is wrong with it.
// Assumes: profiles are small hand-written files; every field is checked, unknown ones included,
// because a typo ("active_lo") silently ignored would leave a board with a dark LED and no reason.
// Faults: every problem is a BoardProfileException; nothing else escapes for any input text.
using System.Globalization;
using System.Text.Json;
using O3Storage.Firmware.Boards.Json;

namespace O3Storage.Firmware.Boards;

internal static class BoardProfileReader
{
    private const int PinMax = 1023;
    private const int PixelsMax = 1024;
    private const double CelsiusMin = 0;
    private const double CelsiusMax = 150;

    public static BoardProfile Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        BoardProfileJson? file;
        try
        {
            file = JsonSerializer.Deserialize(json, BoardProfileJsonContext.Default.BoardProfileJson);
        }
        catch (JsonException e)
        {
            // The message already says where ("Path: $.leds[0].pin | LineNumber: 3 ...").
            throw new BoardProfileException($"{source}: not a valid board profile: {e.Message}", e);
        }

        if (file is null)
        {
            throw new BoardProfileException($"{source}: the file holds null, not a board profile");
        }

        var errors = new Errors(source);
        errors.Unknown("", file.Unknown);

        string name = RequiredText(errors, "name", file.Name);
        if (name.Length > 0 && !IsProfileName(name))
        {
            errors.Add("name", $"'{name}' is not a profile name (lowercase letters, digits and single dashes, e.g. \"raspberry-pi-4\")");
        }

        string model = RequiredText(errors, "model", file.Model);
        List<string> compatible = Texts(errors, "compatible", file.Compatible);

        var leds = new List<LedSpec>();
        for (int i = 0; i < (file.Leds?.Count ?? 0); i++)
        {
            LedSpec? led = Led(errors, $"leds[{i}]", file.Leds![i]);
            if (led is not null)
            {
                leds.Add(led);
            }
        }

        List<string> thermalZones = [];
        var i2cSensors = new List<I2cSensorSpec>();
        if (file.Sensors is { } sensors)
        {
            errors.Unknown("sensors.", sensors.Unknown);
            thermalZones = Texts(errors, "sensors.thermal_zones", sensors.ThermalZones);
            for (int i = 0; i < (sensors.I2c?.Count ?? 0); i++)
            {
                I2cSensorSpec? sensor = I2cSensor(errors, $"sensors.i2c[{i}]", sensors.I2c![i]);
                if (sensor is not null)
                {
                    i2cSensors.Add(sensor);
                }
            }
        }

        ThrottleLimits throttle = Throttle(errors, file.Throttle);
        errors.ThrowIfAny();
        return new BoardProfile(name, model, compatible, leds, thermalZones, i2cSensors, throttle);
    }

    private static LedSpec? Led(Errors errors, string path, LedJson? led)
    {
        if (led is null)
        {
            errors.Add(path, "is null, expected an object with a \"driver\"");
            return null;
        }

        errors.Unknown(path + ".", led.Unknown);
        switch (led.Driver)
        {
            case null:
                errors.Add(path + ".driver", "missing (sysfs, gpio or ws2812b)");
                return null;
            case "sysfs":
                errors.NotFor(path, "sysfs", ("pin", led.Pin), ("active_low", led.ActiveLow), ("chip", led.Chip), ("spi_bus", led.SpiBus), ("chip_select", led.ChipSelect), ("pixels", led.Pixels));
                List<string> names = Texts(errors, path + ".names", led.Names);
                if (names.Count == 0)
                {
                    errors.Add(path + ".names", "missing or empty: name the LED as under /sys/class/leds, e.g. [\"ACT\", \"led0\"]");
                }

                foreach (string name in names.Where(n => n.Contains('/', StringComparison.Ordinal) || n is "." or ".."))
                {
                    errors.Add(path + ".names", $"'{name}' is not a name under /sys/class/leds");
                }

                return new SysfsLedSpec(names);
            case "gpio":
                errors.NotFor(path, "gpio", ("names", led.Names), ("spi_bus", led.SpiBus), ("chip_select", led.ChipSelect), ("pixels", led.Pixels));
                if (led.Pin is not { } pin)
                {
                    errors.Add(path + ".pin", "missing: the GPIO number the LED is wired to");
                    return null;
                }

                errors.InRange(path + ".pin", pin, 0, PinMax);
                errors.InRange(path + ".chip", led.Chip ?? 0, 0, 63);
                return new GpioLedSpec(pin, led.ActiveLow ?? false, led.Chip ?? 0);
            case "ws2812b":
                errors.NotFor(path, "ws2812b", ("names", led.Names), ("pin", led.Pin), ("active_low", led.ActiveLow), ("chip", led.Chip));
                errors.InRange(path + ".spi_bus", led.SpiBus ?? 0, 0, 63);
                errors.InRange(path + ".chip_select", led.ChipSelect ?? 0, 0, 63);
                errors.InRange(path + ".pixels", led.Pixels ?? 1, 1, PixelsMax);
                return new Ws2812bLedSpec(led.SpiBus ?? 0, led.ChipSelect ?? 0, led.Pixels ?? 1);
            default:
                errors.Add(path + ".driver", $"unknown driver '{led.Driver}' (expected sysfs, gpio or ws2812b)");
                return null;
        }
    }

    private static I2cSensorSpec? I2cSensor(Errors errors, string path, I2cSensorJson? sensor)
    {
        if (sensor is null)
        {
            errors.Add(path, "is null, expected an object with a \"driver\"");
            return null;
        }

        errors.Unknown(path + ".", sensor.Unknown);
        if (sensor.Driver != "bme280")
        {
            errors.Add(path + ".driver", sensor.Driver is null ? "missing (bme280)" : $"unknown driver '{sensor.Driver}' (expected bme280)");
            return null;
        }

        int bus = sensor.Bus ?? 1;
        errors.InRange(path + ".bus", bus, 0, 63);
        if (!TryAddress(sensor.Address, out int address))
        {
            string written = sensor.Address is { } element ? element.GetRawText() : "nothing";
            errors.Add(path + ".address", $"bad address {written} (expected a 7-bit I2C address such as \"0x76\")");
            return null;
        }

        return new I2cSensorSpec("bme280", bus, address);
    }

    /// <summary>A 7-bit address outside the reserved ranges (0x00–0x07, 0x78–0x7F): "0x76" or 118.</summary>
    private static bool TryAddress(JsonElement? element, out int address)
    {
        address = 0;
        bool parsed = element switch
        {
            { ValueKind: JsonValueKind.String } e when e.GetString() is { } text && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) =>
                int.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out address),
            { ValueKind: JsonValueKind.Number } e => e.TryGetInt32(out address),
            _ => false,
        };
        return parsed && address is >= 0x08 and <= 0x77;
    }

    private static ThrottleLimits Throttle(Errors errors, ThrottleJson? throttle)
    {
        if (throttle is null)
        {
            return ThrottleLimits.Default;
        }

        errors.Unknown("throttle.", throttle.Unknown);
        double soft = throttle.SoftCelsius ?? ThrottleLimits.Default.SoftCelsius;
        double hard = throttle.HardCelsius ?? ThrottleLimits.Default.HardCelsius;
        errors.InRange("throttle.soft_celsius", soft, CelsiusMin, CelsiusMax);
        errors.InRange("throttle.hard_celsius", hard, CelsiusMin, CelsiusMax);
        if (soft >= hard)
        {
            errors.Add("throttle", $"soft_celsius ({soft}) must be below hard_celsius ({hard})");
        }

        return new ThrottleLimits(soft, hard);
    }

    private static string RequiredText(Errors errors, string path, string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            errors.Add(path, "missing");
            return "";
        }

        return value;
    }

    private static List<string> Texts(Errors errors, string path, List<string?>? values)
    {
        var texts = new List<string>();
        for (int i = 0; i < (values?.Count ?? 0); i++)
        {
            if (string.IsNullOrWhiteSpace(values![i]))
            {
                errors.Add($"{path}[{i}]", "is empty");
            }
            else
            {
                texts.Add(values[i]!);
            }
        }

        return texts;
    }

    private static bool IsProfileName(string name) =>
        name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && !name.StartsWith('-') && !name.EndsWith('-') && !name.Contains("--", StringComparison.Ordinal);

    /// <summary>Collects every problem so a user fixes a file in one go, not one error per run.</summary>
    private sealed class Errors(string source)
    {
        private readonly List<string> _messages = [];

        public void Add(string path, string problem) => _messages.Add($"{path}: {problem}");

        public void Unknown(string prefix, Dictionary<string, JsonElement>? unknown)
        {
            foreach (string property in unknown?.Keys ?? Enumerable.Empty<string>())
            {
                Add(prefix + property, "unknown property");
            }
        }

        public void NotFor(string path, string driver, params (string Name, object? Value)[] fields)
        {
            foreach ((string field, object? value) in fields)
            {
                if (value is not null)
                {
                    Add($"{path}.{field}", $"does not apply to driver '{driver}'");
                }
            }
        }

        public void InRange(string path, double value, double min, double max)
        {
            if (value < min || value > max || double.IsNaN(value))
            {
                Add(path, $"{value.ToString(CultureInfo.InvariantCulture)} is out of range {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}");
            }
        }

        public void ThrowIfAny()
        {
            if (_messages.Count > 0)
            {
                throw new BoardProfileException($"{source}: {string.Join("; ", _messages)}");
            }
        }
    }
}
