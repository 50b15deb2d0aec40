// Owns: one Linux LED class device (/sys/class/leds/NAME): its trigger, blink delays and brightness.
// Assumes: the kernel's "timer" trigger runs a two-phase pattern by itself and creates the delay_on and
// delay_off files only once it is selected; "default-on" and "none" give steady on and off. A kernel
// built without a trigger does not list it in the trigger file: without "timer" the animator drives
// the brightness at each step, without "default-on" steady on is "none" at full brightness. Each
// attribute is written with one write(2) at offset 0, as sysfs wants.
// Faults: a missing LED or a denied write is a LedDriverException naming the file (TryOpen turns it
// into a reason). Dispose puts back the trigger that was active at open (on a Raspberry Pi the ACT
// LED goes back to showing SD card activity) and never throws.
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace O3Storage.Firmware.Leds;

public sealed class SysfsLedDriver : ILedDriver
{
    private readonly string _directory;
    private readonly string _originalTrigger;
    private readonly string _originalBrightness;
    private readonly int _maxBrightness;
    private readonly HashSet<string> _triggers;
    private string _trigger;
    private bool _timerDenied;
    private bool _disposed;

    /// <summary>Opens the LED at <paramref name="ledDirectory"/> (e.g. /sys/class/leds/ACT) and remembers its active trigger.</summary>
    /// <exception cref="LedDriverException">The LED does not exist, or its files cannot be read or written.</exception>
    public SysfsLedDriver(string ledDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(ledDirectory);
        _directory = ledDirectory;
        if (!Directory.Exists(ledDirectory))
        {
            throw new LedDriverException($"no LED at {ledDirectory}");
        }

        string triggers = ReadAttribute("trigger");
        _originalTrigger = ActiveTrigger(triggers);
        _triggers = [.. triggers.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim('[', ']'))];
        _trigger = _originalTrigger;
        _originalBrightness = ReadAttribute("brightness").Trim();
        string max = ReadAttribute("max_brightness").Trim();
        if (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out _maxBrightness) || _maxBrightness < 1)
        {
            throw new LedDriverException($"{Path.Combine(ledDirectory, "max_brightness")} holds '{max}', not a positive number");
        }

        // Reading works for everyone; writing needs root (or a udev rule), so check it now rather
        // than at the first status change.
        CheckWritable("trigger");
        CheckWritable("brightness");
        Name = "sysfs:" + Path.GetFileName(Path.TrimEndingDirectorySeparator(ledDirectory));
    }

    public string Name { get; }

    /// <summary>The trigger that was active when the LED was opened, e.g. "mmc0"; Dispose restores it.</summary>
    public string OriginalTrigger => _originalTrigger;

    public int MaxBrightness => _maxBrightness;

    public static bool TryOpen(string ledDirectory, [NotNullWhen(true)] out SysfsLedDriver? driver, out string reason)
    {
        try
        {
            driver = new SysfsLedDriver(ledDirectory);
            reason = "";
            return true;
        }
        catch (LedDriverException e)
        {
            driver = null;
            reason = e.Message;
            return false;
        }
    }

    /// <summary>The trigger shown in brackets in a sysfs trigger file: "none [mmc0] timer" gives "mmc0".</summary>
    public static string ActiveTrigger(string triggerFileContent)
    {
        ArgumentNullException.ThrowIfNull(triggerFileContent);
        foreach (string word in triggerFileContent.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (word.Length > 2 && word[0] == '[' && word[^1] == ']')
            {
                return word[1..^1];
            }
        }

        // A file without brackets is not what the kernel writes; treat it as "no trigger".
        return "none";
    }

    public bool CanRun(LedPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return pattern.IsSteady || (_triggers.Contains("timer") && !_timerDenied);
    }

    public void Run(LedPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        if (pattern.IsSteady)
        {
            if (pattern.Steps[0].On && _triggers.Contains("default-on"))
            {
                SetTrigger("default-on");
            }
            else
            {
                SetPhase(pattern.Steps[0].On, pattern.Color);
            }

            return;
        }

        if (!_triggers.Contains("timer"))
        {
            throw new InvalidOperationException($"{Name} has no timer trigger; the animator must drive its phases");
        }

        // Re-selecting "timer" restarts the blink with the new delays; the kernel starts it on.
        SetTrigger("timer", force: true);
        try
        {
            WriteAttribute("delay_on", pattern.OnMs.ToString(CultureInfo.InvariantCulture));
            WriteAttribute("delay_off", pattern.OffMs.ToString(CultureInfo.InvariantCulture));
        }
        catch (LedDriverException e) when (e.InnerException is UnauthorizedAccessException)
        {
            // The kernel makes delay_on/delay_off owned by root when the timer is selected: a node that
            // may write only trigger and brightness (the image's udev rule) blinks by brightness instead.
            _timerDenied = true;
            SetTrigger("none");
            throw;
        }
    }

    public void SetPhase(bool on, LedColor color)
    {
        SetTrigger("none");
        WriteAttribute("brightness", on ? _maxBrightness.ToString(CultureInfo.InvariantCulture) : "0");
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
            SetTrigger(_originalTrigger, force: true);
            if (_originalTrigger == "none")
            {
                WriteAttribute("brightness", _originalBrightness);
            }
        }
        catch (LedDriverException)
        {
            // The LED is gone or no longer ours to write; there is nothing left to restore.
        }
    }

    private void SetTrigger(string trigger, bool force = false)
    {
        if (!force && _trigger == trigger)
        {
            return;
        }

        WriteAttribute("trigger", trigger);
        _trigger = trigger;
    }

    private string ReadAttribute(string name)
    {
        string path = Path.Combine(_directory, name);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedDriverException($"cannot read {path}: {Describe(e)}", e);
        }
    }

    private void CheckWritable(string name)
    {
        string path = Path.Combine(_directory, name);
        try
        {
            File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite).Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedDriverException($"cannot write {path}: {Describe(e)}", e);
        }
    }

    private void WriteAttribute(string name, string value)
    {
        string path = Path.Combine(_directory, name);
        try
        {
            // Truncate (not Create): a sysfs attribute that does not exist must not be created, and
            // a plain file in a test tree must not keep the tail of a longer old value.
            using SafeFileHandle handle = File.OpenHandle(path, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite);
            RandomAccess.Write(handle, Encoding.ASCII.GetBytes(value), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedDriverException($"cannot write '{value}' to {path}: {Describe(e)}", e);
        }
    }

    private static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => "permission denied (the node must run as root or be allowed by a udev rule)",
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        _ => e.Message,
    };
}
