// Owns: the TXT record of `_o3storage._tcp` (RFC 6763 key=value strings) and its mapping to and from
// PeerAdvert. Assumes nothing about the sender: a record from another program, an older version or a
// garbled packet decodes to null rather than to a half-filled advert.
namespace O3Storage.Provisioning;

public static class AdvertTxt
{
    public const string ServiceType = "_o3storage._tcp";

    /// <summary>Bumped when a key changes meaning; a node ignores records of another version.</summary>
    public const string Version = "1";

    /// <summary>The strings of the TXT record, in a fixed order (each well under DNS-SD's 255 bytes).</summary>
    public static IReadOnlyList<string> Encode(PeerAdvert advert, string softwareVersion)
    {
        ArgumentNullException.ThrowIfNull(advert);
        var entries = new List<string>
        {
            "txtvers=" + Version,
            "cluster=" + advert.ClusterName,
            "node=" + advert.NodeId,
            "state=" + (advert.State == PeerState.Member ? "member" : "discovering"),
            "version=" + softwareVersion,
        };
        if (advert.TokenProof is not null)
        {
            entries.Add("proof=" + advert.TokenProof);
        }

        if (advert.BootstrapVote is not null)
        {
            entries.Add("vote=" + advert.BootstrapVote);
        }

        return entries;
    }

    /// <summary>The advert a TXT record describes, or null if it is not one of ours (or not this version's).</summary>
    public static PeerAdvert? TryDecode(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            int equals = entry.IndexOf('=');
            string key = equals < 0 ? entry : entry[..equals];

            // RFC 6763 6.4: only the first occurrence of a key counts.
            values.TryAdd(key.ToLowerInvariant(), equals < 0 ? "" : entry[(equals + 1)..]);
        }

        if (!values.TryGetValue("txtvers", out string? version) || version != Version
            || !values.TryGetValue("cluster", out string? cluster) || cluster.Length == 0
            || !values.TryGetValue("node", out string? node) || !NodeIdOrder.TryParse(node, out _)
            || !values.TryGetValue("state", out string? state) || state is not ("member" or "discovering"))
        {
            return null;
        }

        string? vote = values.GetValueOrDefault("vote");
        if (vote is not null && !NodeIdOrder.TryParse(vote, out _))
        {
            vote = null;
        }

        return new PeerAdvert(node, cluster, state == "member" ? PeerState.Member : PeerState.Discovering, values.GetValueOrDefault("proof"), vote);
    }
}
