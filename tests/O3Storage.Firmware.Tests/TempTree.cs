namespace O3Storage.Firmware.Tests;

/// <summary>A throwaway directory standing in for / (sysfs, procfs) in a test.</summary>
internal sealed class TempTree : IDisposable
{
    public TempTree()
    {
        Root = Directory.CreateTempSubdirectory("o3-firmware-").FullName;
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    public void Write(string relative, string content)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>A fake /sys/class/leds/NAME as the kernel shows it, with <paramref name="trigger"/> active.</summary>
    public string AddLed(string name, string trigger = "mmc0", int maxBrightness = 255, bool delayFiles = true, string[]? triggers = null)
    {
        string dir = $"sys/class/leds/{name}";
        triggers ??= ["none", "mmc0", "timer", "default-on", "heartbeat"];
        Write($"{dir}/trigger", string.Join(' ', triggers.Select(t => t == trigger ? $"[{t}]" : t)) + "\n");
        Write($"{dir}/brightness", "0\n");
        Write($"{dir}/max_brightness", $"{maxBrightness}\n");
        if (delayFiles)
        {
            // The kernel creates these only when "timer" is selected; a fake tree needs them up front.
            Write($"{dir}/delay_on", "500\n");
            Write($"{dir}/delay_off", "500\n");
        }

        return PathOf(dir);
    }

    public void AddThermalZone(int number, string type, string temp)
    {
        Write($"sys/class/thermal/thermal_zone{number}/type", type + "\n");
        Write($"sys/class/thermal/thermal_zone{number}/temp", temp + "\n");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
