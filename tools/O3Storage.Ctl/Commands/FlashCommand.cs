// Owns: `o3ctl flash IMAGE DEVICE`: checks the device is a whole disk nobody uses and big enough, writes
// only the image's mapped blocks (its .bmap) checking each range against the map's SHA-256 as it goes,
// flushes, reads every range back from the device (not the page cache) and compares, then writes
// o3storage.txt and authorized_keys onto the boot partition with mtools and reads them back. Nothing is
// written before every check passed; a failed check says what and exits without touching the disk.
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using O3Storage.Ctl.Flash;
using O3Storage.Ctl.Views;
using Spectre.Console;

namespace O3Storage.Ctl.Commands;

public sealed record FlashOptions(
    string Image, string Device, string? BmapPath, string ClusterName, string? JoinToken, string TokenFile, int ExpectedNodes,
    string? Hostname, string? SshKey, bool Yes);

/// <summary>What --json prints after a flash.</summary>
public sealed record FlashResult(
    string Image, string Device, long ImageBytes, long MappedBytes, bool Bmap, bool Verified, double Seconds, long BootPartitionOffset,
    string ClusterName, int ExpectedNodes, string? Hostname, string JoinTokenFile, bool JoinTokenMade, bool AuthorizedKeys);

public static class FlashCommand
{
    private const int ChunkBytes = 4 << 20;

    public static async Task<ExitCode> RunAsync(CtlContext ctl, FlashOptions options, CancellationToken token)
    {
        // Every check before anything is written.
        if (!File.Exists(options.Image))
        {
            throw new CtlException(ExitCode.Usage, $"no image at {options.Image}", "give the .img file make image built (artifacts/image/)");
        }

        long imageBytes = new FileInfo(options.Image).Length;
        string? bmapPath = options.BmapPath ?? (File.Exists(options.Image + ".bmap") ? options.Image + ".bmap" : null);
        Bmap map;
        try
        {
            map = bmapPath is null ? Bmap.Whole(imageBytes) : Bmap.Parse(await File.ReadAllTextAsync(bmapPath, token).ConfigureAwait(false));
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            throw new CtlException(ExitCode.Usage, $"{bmapPath} is not a usable block map: {e.Message}", "make it again with bmaptool create, or leave it out to write every block");
        }

        if (map.ImageSize != imageBytes)
        {
            throw new CtlException(ExitCode.Usage, $"{bmapPath} is the map of a {map.ImageSize}-byte image, {options.Image} has {imageBytes} bytes", "is it the map of another build?");
        }

        if (bmapPath is null)
        {
            ctl.Error.WriteLine($"o3ctl: no {options.Image}.bmap: every block is written, unchecked (slower)");
        }

        string? sshKey = options.SshKey is null ? null : await ReadKeyAsync(options.SshKey, token).ConfigureAwait(false);
        RequireTool("mcopy");
        RequireTool("mtype");
        (string Path, bool Block, long Bytes) device = Device(options.Device);
        if (device.Bytes < imageBytes)
        {
            throw new CtlException(ExitCode.Usage, $"{options.Device} holds {StatusView.Bytes(device.Bytes)}, the image needs {StatusView.Bytes(imageBytes)}", "use a bigger card");
        }

        (string joinToken, bool made) = options.JoinToken is { } given ? (given, false) : BootFiles.JoinToken(options.TokenFile);
        string config = BootFiles.Config(options.ClusterName, joinToken, options.ExpectedNodes, options.Hostname, DateTimeOffset.UtcNow);
        if (!options.Yes)
        {
            if (Console.IsInputRedirected || !ctl.Console.Profile.Capabilities.Interactive)
            {
                throw new CtlException(ExitCode.Usage, $"flashing erases {options.Device}: confirm with --yes", null);
            }

            if (!await ctl.Console.ConfirmAsync($"Erase everything on [bold]{Markup.Escape(options.Device)}[/] ({StatusView.Bytes(device.Bytes)})?", defaultValue: false, token).ConfigureAwait(false))
            {
                throw new CtlException(ExitCode.Refused, "not flashed: not confirmed");
            }
        }

        var clock = Stopwatch.StartNew();
        using (SafeFileHandle handle = FlashInterop.OpenExclusive(device.Path, device.Block))
        using (var target = new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0))
        await using (FileStream image = new(options.Image, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan))
        {
            string[] written = await WriteAsync(ctl, map, image, target, token).ConfigureAwait(false);
            target.Flush(flushToDisk: true);
            FlashInterop.DropCache(handle);
            await VerifyAsync(ctl, map, target, written, token).ConfigureAwait(false);
        }

        long offset = BootPartitionOffset(device.Path);
        await WriteBootFileAsync(device.Path, offset, "o3storage.txt", config, token).ConfigureAwait(false);
        if (sshKey is not null)
        {
            await WriteBootFileAsync(device.Path, offset, "authorized_keys", sshKey, token).ConfigureAwait(false);
        }

        var result = new FlashResult(Path.GetFullPath(options.Image), device.Path, imageBytes, map.MappedBytes, bmapPath is not null, true, Math.Round(clock.Elapsed.TotalSeconds, 1),
            offset, options.ClusterName, options.ExpectedNodes, options.Hostname, Path.GetFullPath(options.TokenFile), made, sshKey is not null);
        if (ctl.Json)
        {
            ctl.Output.WriteLine(JsonSerializer.Serialize(result, Api.JsonText.Pretty.FlashResult));
        }
        else
        {
            ctl.Console.MarkupLine($"[green]flashed[/] {Markup.Escape(options.Device)}: {StatusView.Bytes(map.MappedBytes)} of {StatusView.Bytes(imageBytes)} written and verified in {result.Seconds:0.0} s");
            ctl.Console.MarkupLine($"o3storage.txt: cluster [bold]{Markup.Escape(options.ClusterName)}[/], {options.ExpectedNodes} boards{(options.Hostname is null ? string.Empty : $", hostname {Markup.Escape(options.Hostname)}")}{(sshKey is null ? ", no SSH key" : ", your SSH key")}");
            ctl.Console.MarkupLine(options.JoinToken is not null ? "join token: as given"
                : $"join token {(made ? "made and kept" : "reused from")} [bold]{Markup.Escape(options.TokenFile)}[/]: flash every card of this cluster with the same file");
        }

        return ExitCode.Ok;
    }

    /// <summary>Writes each mapped range, checking it against the map's checksum; the SHA-256 of every range written.</summary>
    private static async Task<string[]> WriteAsync(CtlContext ctl, Bmap map, FileStream image, FileStream target, CancellationToken token)
    {
        var hashes = new string[map.Ranges.Count];
        byte[] buffer = new byte[ChunkBytes];
        await Progress(ctl, "writing", map.MappedBytes, async advance =>
        {
            for (int i = 0; i < map.Ranges.Count; i++)
            {
                BmapRange range = map.Ranges[i];
                hashes[i] = await HashRangeAsync(map, range, image, buffer, advance, ExitCode.Usage, "the image", target, token).ConfigureAwait(false);
                if (range.Sha256 is { } expected && hashes[i] != expected)
                {
                    throw new CtlException(ExitCode.Refused, $"the image does not match its block map at blocks {range.First}-{range.Last} (a damaged download?); the card is only partly written",
                        "check the image against its .sha256 and flash again");
                }
            }
        }).ConfigureAwait(false);
        return hashes;
    }

    /// <summary>Reads every range back from the device and compares it with what was written.</summary>
    private static async Task VerifyAsync(CtlContext ctl, Bmap map, FileStream target, string[] written, CancellationToken token)
    {
        byte[] buffer = new byte[ChunkBytes];
        await Progress(ctl, "verifying", map.MappedBytes, async advance =>
        {
            for (int i = 0; i < map.Ranges.Count; i++)
            {
                BmapRange range = map.Ranges[i];
                if (await HashRangeAsync(map, range, target, buffer, advance, ExitCode.Refused, "the device", copyTo: null, token).ConfigureAwait(false) != written[i])
                {
                    throw new CtlException(ExitCode.Refused, $"verification failed: blocks {range.First}-{range.Last} read back differ from what was written (a failing card?)", "try another card");
                }
            }
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads one range of <paramref name="source"/> in chunks, copying each to <paramref name="copyTo"/>
    /// at the same offset when given; the SHA-256 of its bytes. A short read is <paramref name="shortCode"/>.
    /// </summary>
    private static async Task<string> HashRangeAsync(Bmap map, BmapRange range, FileStream source, byte[] buffer, Action<long> advance, ExitCode shortCode, string sourceName, FileStream? copyTo, CancellationToken token)
    {
        long start = range.First * map.BlockSize;
        long length = map.ByteLength(range);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (long done = 0; done < length;)
        {
            int count = (int)Math.Min(buffer.Length, length - done);
            int read = await RandomAccess.ReadAsync(source.SafeFileHandle, buffer.AsMemory(0, count), start + done, token).ConfigureAwait(false);
            if (read != count)
            {
                throw new CtlException(shortCode, $"{sourceName} ends early at byte {start + done + read}", null);
            }

            hash.AppendData(buffer, 0, count);
            if (copyTo is not null)
            {
                await RandomAccess.WriteAsync(copyTo.SafeFileHandle, buffer.AsMemory(0, count), start + done, token).ConfigureAwait(false);
            }

            done += count;
            advance(count);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task Progress(CtlContext ctl, string what, long total, Func<Action<long>, Task> work)
    {
        if (ctl.Json || !ctl.Console.Profile.Capabilities.Interactive)
        {
            await work(_ => { }).ConfigureAwait(false);
            return;
        }

        await ctl.Console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                ProgressTask task = progress.AddTask(what, maxValue: Math.Max(1, total));
                await work(bytes => task.Increment(bytes)).ConfigureAwait(false);
            }).ConfigureAwait(false);
    }

    /// <summary>The device to write: a whole disk nobody uses (or a regular file), its path and size.</summary>
    private static (string Path, bool Block, long Bytes) Device(string path)
    {
        if (!File.Exists(path))
        {
            throw new CtlException(ExitCode.Usage, $"no device {path}", "lsblk lists the disks; give the whole card, e.g. /dev/sdb or /dev/mmcblk0");
        }

        string real = Path.GetFullPath(File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path);
        string sys = Path.Combine("/sys/class/block", Path.GetFileName(real));
        if (!real.StartsWith("/dev/", StringComparison.Ordinal) || !Directory.Exists(sys))
        {
            // A regular file: an image written onto an image (no partition or mount to check).
            return (real, false, new FileInfo(real).Length);
        }

        if (File.Exists(Path.Combine(sys, "partition")))
        {
            throw new CtlException(ExitCode.Usage, $"{path} is a partition: give the whole disk", "lsblk shows the disk a partition belongs to (e.g. /dev/sdb, not /dev/sdb1)");
        }

        string name = Path.GetFileName(real);
        string[] partitions = [.. Directory.GetDirectories(sys).Where(d => File.Exists(Path.Combine(d, "partition"))).Select(Path.GetFileName).OfType<string>()];
        string[] numbers = [.. new[] { name }.Concat(partitions).Select(p => File.ReadAllText(Path.Combine("/sys/class/block", p, "dev")).Trim())];
        string[] names = [.. new[] { name }.Concat(partitions).Select(p => "/dev/" + p)];
        string? refusal = DiskGuard.Refusal(path, numbers, names, File.ReadAllText("/proc/self/mountinfo"), File.Exists("/proc/swaps") ? File.ReadAllText("/proc/swaps") : string.Empty);
        if (refusal is not null)
        {
            throw new CtlException(ExitCode.Usage, refusal, "flash a card that is not in use; lsblk shows what is mounted where");
        }

        if (File.Exists(Path.Combine(sys, "ro")) && File.ReadAllText(Path.Combine(sys, "ro")).Trim() == "1")
        {
            throw new CtlException(ExitCode.Usage, $"{path} is read-only (the card's lock switch?)", null);
        }

        long bytes = long.Parse(File.ReadAllText(Path.Combine(sys, "size")).Trim(), System.Globalization.CultureInfo.InvariantCulture) * 512;
        return (real, true, bytes);
    }

    private static long BootPartitionOffset(string device)
    {
        byte[] sector = new byte[512];
        using (FileStream stream = new(device, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        {
            stream.ReadExactly(sector);
        }

        return BootFiles.BootPartitionOffset(sector)
            ?? throw new CtlException(ExitCode.Refused, "the image has no FAT boot partition in its MBR to write o3storage.txt to", "is it an O3StorageOS image?");
    }

    /// <summary>Writes a file onto the FAT partition at <paramref name="offset"/> with mcopy, and reads it back with mtype.</summary>
    private static async Task WriteBootFileAsync(string device, long offset, string name, string content, CancellationToken token)
    {
        string local = Path.Combine(Path.GetTempPath(), $"o3ctl-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllTextAsync(local, content, token).ConfigureAwait(false);
            string image = $"{device}@@{offset}";
            await RunToolAsync("mcopy", ["-o", "-i", image, local, $"::/{name}"], token).ConfigureAwait(false);
            string back = await RunToolAsync("mtype", ["-i", image, $"::/{name}"], token).ConfigureAwait(false);
            if (back.Replace("\r\n", "\n", StringComparison.Ordinal) != content)
            {
                throw new CtlException(ExitCode.Refused, $"{name} on the boot partition reads back differently", "try another card");
            }
        }
        finally
        {
            File.Delete(local);
        }
    }

    private static async Task<string> ReadKeyAsync(string path, CancellationToken token)
    {
        string key;
        try
        {
            key = (await File.ReadAllTextAsync(path, token).ConfigureAwait(false)).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CtlException(ExitCode.Usage, $"cannot read the SSH key {path}: {e.Message}", null);
        }

        return key.StartsWith("ssh-", StringComparison.Ordinal) || key.StartsWith("ecdsa-", StringComparison.Ordinal) || key.StartsWith("sk-", StringComparison.Ordinal)
            ? key + "\n"
            : throw new CtlException(ExitCode.Usage, $"{path} is not an SSH public key", "give the .pub file, e.g. ~/.ssh/id_ed25519.pub (never the private key)");
    }

    private static void RequireTool(string tool)
    {
        string[] path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':');
        if (!path.Any(p => File.Exists(Path.Combine(p, tool))))
        {
            throw new CtlException(ExitCode.Usage, $"{tool} is not installed: flash writes the boot partition with mtools", "sudo apt install mtools (Debian, Ubuntu) or brew install mtools");
        }
    }

    private static async Task<string> RunToolAsync(string tool, string[] args, CancellationToken token)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // mtools refuses a FAT whose geometry it doubts unless told not to check it.
        info.Environment["MTOOLS_SKIP_CHECK"] = "1";
        using Process process = Process.Start(info) ?? throw new CtlException(ExitCode.Refused, $"could not run {tool}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(token);
        Task<string> stderr = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token).ConfigureAwait(false);
        return process.ExitCode == 0 ? await stdout.ConfigureAwait(false)
            : throw new CtlException(ExitCode.Refused, $"{tool} failed writing the boot partition: {(await stderr.ConfigureAwait(false)).Trim()}", null);
    }
}
