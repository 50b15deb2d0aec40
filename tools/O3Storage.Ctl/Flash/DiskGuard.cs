// Owns: the refusal to flash a disk that is in use. A device is refused when it, or any partition of
// it, holds a mounted file system (any mount namespace this process sees: /proc/self/mountinfo) or
// active swap, or is the disk the running system booted from. Pure: the kernel's tables come in as text
// and the device's partitions as device numbers, so every rule is tested without a disk.
namespace O3Storage.Ctl.Flash;

public static class DiskGuard
{
    /// <summary>Why <paramref name="device"/> must not be written, or null.</summary>
    /// <param name="deviceNumbers">The device's own major:minor and its partitions' (from /sys/class/block).</param>
    /// <param name="deviceNames">The device's and its partitions' /dev paths, to match /proc/swaps.</param>
    public static string? Refusal(string device, IReadOnlyCollection<string> deviceNumbers, IReadOnlyCollection<string> deviceNames, string mountInfo, string swaps)
    {
        foreach (string line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // mountinfo: ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTIONS
            string[] fields = line.Split(' ');
            if (fields.Length > 4 && deviceNumbers.Contains(fields[2]))
            {
                string mountPoint = Unescape(fields[4]);
                return mountPoint == "/"
                    ? $"{device} holds the running system's root file system"
                    : $"{device} is in use: {fields[2]} is mounted on {mountPoint} (unmount it first)";
            }
        }

        foreach (string line in swaps.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string source = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;
            if (deviceNames.Contains(Unescape(source)))
            {
                return $"{device} is in use: {source} is active swap (swapoff it first)";
            }
        }

        return null;
    }

    /// <summary>mountinfo and swaps escape space, tab, newline and backslash as octal.</summary>
    private static string Unescape(string field) => field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
        .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
