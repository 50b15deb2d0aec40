// Owns: the pure parts of `o3ctl os-update`: which member goes when, whether the cluster may lose one
// now, what a board's `o3-update status` says, and which release a bundle carries. No sockets, no SSH.
using System.Formats.Tar;
using O3Storage.Ctl.Api;
using O3Storage.Ctl.Views;

namespace O3Storage.Ctl.Update;

/// <summary>What a board's <c>sudo o3-update status</c> printed (image/rootfs/usr/sbin/o3-update).</summary>
/// <param name="RunningSlot">A or B.</param>
/// <param name="OnTrial">The running slot boots on trial (not committed yet).</param>
/// <param name="Release">The running release.</param>
/// <param name="LastState">How the last update ended: trying, committed or rolled-back; null when none was made.</param>
public sealed record BoardUpdateStatus(string RunningSlot, bool OnTrial, string Release, string? LastState)
{
    /// <summary>Null when the text is not what o3-update status prints.</summary>
    public static BoardUpdateStatus? Parse(string text)
    {
        string? slot = null, release = null, last = null;
        bool trial = false;
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("running: slot ", StringComparison.Ordinal))
            {
                // running: slot B (on trial), release 0.1.211+abc
                string rest = line["running: slot ".Length..];
                slot = rest.Length > 0 && rest[0] is 'A' or 'B' ? rest[..1] : null;
                trial = rest.Contains("(on trial)", StringComparison.Ordinal);
                int at = rest.IndexOf(", release ", StringComparison.Ordinal);
                release = at < 0 ? null : rest[(at + ", release ".Length)..].Trim();
            }
            else if (line.StartsWith("last update: state=", StringComparison.Ordinal))
            {
                last = line["last update: state=".Length..].Trim();
            }
        }

        return slot is null || string.IsNullOrEmpty(release) ? null : new BoardUpdateStatus(slot, trial, release, last);
    }
}

public static class RollingUpdate
{
    /// <summary>
    /// The order members are updated in: followers first (by id), the leader last, so the cluster
    /// elects a new leader once, not once per board.
    /// </summary>
    public static IReadOnlyList<MemberStatus> Order(ClusterStatus status) =>
        [.. status.Members.Where(m => m.Id != status.Leader).OrderBy(m => m.Id, StringComparer.Ordinal),
            .. status.Members.Where(m => m.Id == status.Leader)];

    /// <summary>
    /// Why the cluster may not lose a member for a reboot now, or null when it may: three or more
    /// members (unless <paramref name="allowOutage"/>), every member up and serving, a leader, quorum,
    /// writes on. A board is taken down only from a healthy cluster, so the update never leaves it
    /// below quorum.
    /// </summary>
    public static string? Unsafe(ClusterStatus status, bool allowOutage = false)
    {
        // A member down leaves a majority only with three or more: one of one or two takes the service with it.
        if (status.Members.Count < 3 && !allowOutage)
        {
            return $"the cluster has {status.Members.Count} member(s): while one reboots it has no quorum (--allow-outage to update anyway)";
        }

        if (status.Health != StatusView.Healthy)
        {
            return $"the cluster is {status.Health}: {status.Summary}";
        }

        MemberStatus? down = status.Members.FirstOrDefault(m => !m.Reachable || m.Status != "ok");
        return down is null ? null : $"member {down.Id} is {(down.Reachable ? down.Status ?? "not serving" : "not answering")}";
    }

    /// <summary>The host a member's id names ("198.18.0.11:8080" → "198.18.0.11"; "[fd00::1]:8080" → "fd00::1").</summary>
    public static string Host(string memberId)
    {
        if (memberId.StartsWith('['))
        {
            int end = memberId.IndexOf(']', StringComparison.Ordinal);
            return end > 1 ? memberId[1..end] : memberId;
        }

        int colon = memberId.LastIndexOf(':');
        return colon > 0 ? memberId[..colon] : memberId;
    }

    /// <summary>The release a bundle carries (its manifest's release=), or an error saying why it is not a bundle.</summary>
    public static string ReadRelease(Stream bundle)
    {
        try
        {
            using var reader = new TarReader(bundle, leaveOpen: true);
            for (TarEntry? entry = reader.GetNextEntry(); entry is not null; entry = reader.GetNextEntry())
            {
                if (entry.Name != "manifest" || entry.DataStream is null)
                {
                    continue;
                }

                using var text = new StreamReader(entry.DataStream);
                string manifest = text.ReadToEnd();
                string? format = Field(manifest, "format");
                string? release = Field(manifest, "release");
                if (format != "o3storage-update-1" || string.IsNullOrEmpty(release))
                {
                    throw new FormatException($"its manifest is format '{format}' with release '{release}'; o3storage-update-1 with a release was expected");
                }

                return release;
            }
        }
        catch (InvalidDataException e)
        {
            throw new FormatException($"it is not a tar archive ({e.Message})", e);
        }

        throw new FormatException("it has no manifest");
    }

    private static string? Field(string manifest, string name) =>
        manifest.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];
}
