// Owns: what o3ctl flash writes onto a card's boot partition: o3storage.txt (checked with the node's own
// parser, so a card is never written with settings its board would refuse) and the join token kept in a
// file beside the operator, made once and reused, so flashing N cards for one cluster is one command each.
// Also where that partition starts (the image's MBR). Pure but for the token file.
using System.Buffers.Binary;
using System.Security.Cryptography;
using O3Storage.Provisioning;

namespace O3Storage.Ctl.Flash;

public static class BootFiles
{
    /// <summary>The text of o3storage.txt for these settings.</summary>
    /// <exception cref="CtlException">A setting the board would refuse (Usage), with the parser's words.</exception>
    public static string Config(string clusterName, string joinToken, int expectedNodes, string? hostname, DateTimeOffset now)
    {
        string text = $"""
            # Written by o3ctl flash on {now:yyyy-MM-dd HH:mm} UTC (docs/image.md explains every setting).
            # The same on every card of this cluster; hostname is per card.
            cluster_name={clusterName}
            join_token={joinToken}
            expected_nodes={expectedNodes}
            {(hostname is null ? "#hostname=" : $"hostname={hostname}")}

            """.Replace("\r\n", "\n", StringComparison.Ordinal);
        if (BootConfig.TryParse(text, out IReadOnlyList<string> errors) is null)
        {
            throw new CtlException(ExitCode.Usage, $"the board would refuse these settings: {string.Join("; ", errors)}", "see docs/image.md for what each setting takes");
        }

        return text;
    }

    /// <summary>
    /// The cluster's join token: read from <paramref name="path"/> when it exists, else made (128 bits,
    /// hex, as docs/image.md's openssl line) and written there readable by its owner only.
    /// </summary>
    public static (string Token, bool Made) JoinToken(string path)
    {
        if (File.Exists(path))
        {
            string token = File.ReadAllText(path).Trim();
            return token.Length >= BootConfig.JoinTokenLengthMin ? (token, false)
                : throw new CtlException(ExitCode.Usage, $"{path} holds no join token (at least {BootConfig.JoinTokenLengthMin} characters)", "delete it to have a new one made, or give --join-token");
        }

        string made = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        using (FileStream file = new(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
        using (var writer = new StreamWriter(file))
        {
            writer.WriteLine(made);
        }

        return (made, true);
    }

    /// <summary>The byte offset of the first FAT partition in an MBR (the image's O3BOOT); null when there is none.</summary>
    public static long? BootPartitionOffset(ReadOnlySpan<byte> sector0)
    {
        if (sector0.Length < 512 || sector0[510] != 0x55 || sector0[511] != 0xAA)
        {
            return null;
        }

        for (int i = 0; i < 4; i++)
        {
            ReadOnlySpan<byte> entry = sector0.Slice(446 + (16 * i), 16);
            byte type = entry[4];
            uint startLba = BinaryPrimitives.ReadUInt32LittleEndian(entry[8..]);
            if (type is 0x0B or 0x0C or 0x0E or 0x06 or 0x04 or 0x01 && startLba > 0)
            {
                return startLba * 512L;
            }
        }

        return null;
    }
}
