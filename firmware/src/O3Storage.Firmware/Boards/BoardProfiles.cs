// Owns: the built-in board profiles (JSON resources under boards/), detecting which one this board
// is from its device tree, and loading a user's profile file.
// Assumes: the device tree's "compatible" property lists NUL-terminated strings, most specific
// first ("raspberrypi,4-model-b\0brcm,bcm2711\0"), at /proc/device-tree/compatible or
// /sys/firmware/devicetree/base/compatible. Machines without a device tree (x86 laptops, CI) have
// neither file and get no profile.
// Faults: an unreadable device tree means "no board", never an exception; a broken user profile is
// a BoardProfileException; a broken built-in profile is a programmer error (tests load them all).
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace O3Storage.Firmware.Boards;

public static class BoardProfiles
{
    private const string ResourcePrefix = "boards/";

    private static readonly Lazy<IReadOnlyList<BoardProfile>> s_builtIn = new(LoadBuiltIn);

    /// <summary>The profiles shipped with O3StorageOS, ordered by name.</summary>
    public static IReadOnlyList<BoardProfile> BuiltIn => s_builtIn.Value;

    /// <summary>The built-in profile called <paramref name="name"/>, or null.</summary>
    public static BoardProfile? Find(string name) => BuiltIn.FirstOrDefault(p => p.Name == name);

    /// <summary>
    /// The built-in profile for the board whose file system is mounted at <paramref name="rootDirectory"/>
    /// ("/" on the board itself), or null when there is no device tree or no profile matches.
    /// </summary>
    public static BoardProfile? Detect(string rootDirectory) => Match(ReadCompatible(rootDirectory), BuiltIn);

    /// <summary>The first profile that lists one of <paramref name="compatible"/>, trying the most specific string first.</summary>
    public static BoardProfile? Match(IReadOnlyList<string> compatible, IEnumerable<BoardProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(compatible);
        ArgumentNullException.ThrowIfNull(profiles);
        List<BoardProfile> candidates = [.. profiles];
        foreach (string value in compatible)
        {
            BoardProfile? match = candidates.FirstOrDefault(p => p.Compatible.Contains(value, StringComparer.Ordinal));
            if (match is not null)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>The device tree's compatible strings under <paramref name="rootDirectory"/>, or empty when there is none.</summary>
    public static IReadOnlyList<string> ReadCompatible(string rootDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootDirectory);
        foreach (string relative in (string[])["proc/device-tree/compatible", "sys/firmware/devicetree/base/compatible"])
        {
            string path = Path.Combine(rootDirectory, relative);
            try
            {
                byte[] bytes = File.ReadAllBytes(path);
                return Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not there (no device tree) or not readable: try the other place, then give up.
            }
        }

        return [];
    }

    /// <summary>Reads and validates a profile file (for boards O3StorageOS does not ship a profile for).</summary>
    /// <exception cref="BoardProfileException">The file is missing, unreadable, not JSON or not a valid profile.</exception>
    public static BoardProfile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BoardProfileException($"{path}: cannot read the board profile: {e.Message}", e);
        }

        return BoardProfileReader.Parse(json, path);
    }

    public static bool TryLoad(string path, [NotNullWhen(true)] out BoardProfile? profile, out string error)
    {
        try
        {
            profile = Load(path);
            error = "";
            return true;
        }
        catch (BoardProfileException e)
        {
            profile = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Validates profile JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="BoardProfileException">The text is not a valid profile.</exception>
    public static BoardProfile Parse(string json, string source) => BoardProfileReader.Parse(json, source);

    private static IReadOnlyList<BoardProfile> LoadBuiltIn()
    {
        var assembly = typeof(BoardProfiles).Assembly;
        var profiles = new List<BoardProfile>();
        foreach (string resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using Stream stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"resource {resource} vanished");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            BoardProfile profile = BoardProfileReader.Parse(reader.ReadToEnd(), resource);
            if (resource != $"{ResourcePrefix}{profile.Name}.json")
            {
                throw new InvalidOperationException($"{resource} holds the profile '{profile.Name}'; the file must be named after it");
            }

            profiles.Add(profile);
        }

        return profiles;
    }
}
