// Owns: reading the SoC temperature from the kernel's thermal zones
// (/sys/class/thermal/thermal_zone*/temp in millidegrees Celsius, with the zone's kind in "type").
// Assumes: several zones may exist (x86 laptops have many); the hottest readable zone of an accepted
// type is the one that matters for throttling. Values outside -50..200 °C are sensor garbage
// (some drivers report -273 °C or errors as huge numbers) and are skipped.
// Faults: a missing directory, an unreadable file or garbage content skips that zone; when none is
// left, TryReadCelsius returns false with the reason. It never throws for IO problems.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace O3Storage.Firmware.Sensors;

public sealed class ThermalZones
{
    private const string ZonePrefix = "thermal_zone";
    private const double PlausibleCelsiusMin = -50;
    private const double PlausibleCelsiusMax = 200;

    private readonly string _directory;
    private readonly IReadOnlyList<string> _types;

    /// <param name="thermalDirectory">Usually /sys/class/thermal.</param>
    /// <param name="types">Zone types to accept (e.g. "cpu-thermal"); empty accepts every zone.</param>
    public ThermalZones(string thermalDirectory, IReadOnlyList<string> types)
    {
        ArgumentException.ThrowIfNullOrEmpty(thermalDirectory);
        ArgumentNullException.ThrowIfNull(types);
        _directory = thermalDirectory;
        _types = [.. types];
    }

    /// <summary>
    /// The hottest plausible reading among accepted zones, and where it came from, e.g.
    /// "thermal_zone0 (cpu-thermal)". False when there is none; <paramref name="source"/> then starts
    /// with "no sensor" and says why.
    /// </summary>
    public bool TryReadCelsius(out double celsius, out string source)
    {
        celsius = 0;
        if (!Directory.Exists(_directory))
        {
            source = $"no sensor: no {_directory}";
            return false;
        }

        IEnumerable<string> zones;
        try
        {
            zones = Directory.EnumerateFileSystemEntries(_directory, ZonePrefix + "*").ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            source = $"no sensor: cannot list {_directory}";
            return false;
        }

        string? best = null;
        var problems = new List<string>();
        foreach (string zone in zones.OrderBy(ZoneNumber))
        {
            string name = Path.GetFileName(zone);
            if (!TryReadText(Path.Combine(zone, "type"), out string? type))
            {
                problems.Add($"{name}: type unreadable");
                continue;
            }

            if (_types.Count > 0 && !_types.Contains(type, StringComparer.Ordinal))
            {
                continue;
            }

            string label = $"{name} ({type})";
            if (!TryReadText(Path.Combine(zone, "temp"), out string? text))
            {
                problems.Add($"{label}: temp unreadable");
                continue;
            }

            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long millidegrees))
            {
                problems.Add($"{label}: temp holds '{Shorten(text)}'");
                continue;
            }

            double value = millidegrees / 1000.0;
            if (value is < PlausibleCelsiusMin or > PlausibleCelsiusMax)
            {
                problems.Add($"{label}: implausible {value.ToString(CultureInfo.InvariantCulture)} °C");
                continue;
            }

            if (best is null || value > celsius)
            {
                celsius = value;
                best = label;
            }
        }

        if (best is not null)
        {
            source = best;
            return true;
        }

        celsius = 0;
        string wanted = _types.Count == 0 ? "thermal zone" : $"thermal zone of type {string.Join(" or ", _types)}";
        source = problems.Count > 0
            ? $"no sensor: {string.Join("; ", problems)}"
            : $"no sensor: no {wanted} under {_directory}";
        return false;
    }

    private static int ZoneNumber(string zone) =>
        int.TryParse(Path.GetFileName(zone).AsSpan(ZonePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int number) ? number : int.MaxValue;

    private static bool TryReadText(string path, [NotNullWhen(true)] out string? text)
    {
        try
        {
            text = File.ReadAllText(path).Trim();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Missing, unreadable, or a zone whose driver returns an error on read (EINVAL, ENODATA).
            text = null;
            return false;
        }
    }

    private static string Shorten(string text) => text.Length <= 20 ? text : text[..20] + "…";
}
