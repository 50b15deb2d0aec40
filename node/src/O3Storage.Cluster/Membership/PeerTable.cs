// Owns: this node's view of which members it can reach, from the results of its periodic probes.
// Assumes: time comes from the injected TimeProvider, so tests drive it without sleeping.
using System.Collections.Concurrent;

namespace O3Storage.Cluster.Membership;

/// <summary>The last successful probe of one peer, and what the peer said about itself (its build's version and metadata level too).</summary>
public sealed record PeerContact(DateTimeOffset LastContact, string Role, long Term, string? Version = null, int MetadataLevel = 1);

public sealed class PeerTable(TimeProvider time, TimeSpan reachableWindow)
{
    /// <summary>A peer is reachable while its last answer is younger than this.</summary>
    public static readonly TimeSpan DefaultReachableWindow = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, PeerContact> _contacts = new(StringComparer.Ordinal);

    /// <summary>When this table began: a member never heard from counts as down since then (a restarted leader waits a full grace before giving anyone up).</summary>
    private readonly DateTimeOffset _started = time.GetUtcNow();

    /// <summary>
    /// When each member was first seen as one (<see cref="Retain"/>): a member added later and never heard
    /// from yet counts as down only since it was added, so a node that has just joined is never taken for
    /// a dead one (autopilot would remove it before its first probe).
    /// </summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _known = new(StringComparer.Ordinal);

    public TimeSpan ReachableWindow => reachableWindow;

    public void RecordContact(string nodeId, string role, long term, string? version = null, int metadataLevel = 1) =>
        _contacts[nodeId] = new PeerContact(time.GetUtcNow(), role, term, version, metadataLevel);

    /// <summary>
    /// The metadata level to commit now: the lowest any member of <paramref name="state"/> reads, when
    /// every other member answers now and that is above the committed level; else null. A member that
    /// does not answer may be changing its build (a rolling update): the level waits for it.
    /// </summary>
    public int? LevelToCommit(Metadata.MetadataState state, string selfNodeId, int selfLevel)
    {
        int lowest = selfLevel;
        foreach (string id in state.Members.Keys.Where(id => id != selfNodeId))
        {
            if (!IsReachable(id) || !_contacts.TryGetValue(id, out PeerContact? contact))
            {
                return null;
            }

            lowest = Math.Min(lowest, contact.MetadataLevel);
        }

        return lowest > state.ClusterLevel ? lowest : null;
    }

    public PeerContact? Find(string nodeId) => _contacts.GetValueOrDefault(nodeId);

    public bool IsReachable(string nodeId) =>
        _contacts.TryGetValue(nodeId, out PeerContact? contact) && time.GetUtcNow() - contact.LastContact < reachableWindow;

    /// <summary>Who of <paramref name="memberIds"/> is down now, and since when (<paramref name="selfNodeId"/> is always up).</summary>
    public Lifecycle.MemberLiveness Liveness(IEnumerable<string> memberIds, string selfNodeId, TimeSpan grace)
    {
        DateTimeOffset now = time.GetUtcNow();
        var down = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (string id in memberIds)
        {
            if (id != selfNodeId && DownSince(id) is { } since)
            {
                down[id] = since;
            }
        }

        return new Lifecycle.MemberLiveness(now, grace, down);
    }

    /// <summary>Whether <paramref name="nodeId"/> has been down for at least <paramref name="grace"/>: <see cref="Liveness"/>'s answer for one member, without building it (the write path asks per member).</summary>
    public bool IsDownLongerThan(string nodeId, TimeSpan grace) =>
        DownSince(nodeId) is { } since && time.GetUtcNow() - since >= grace;

    /// <summary>When an unreachable member was last heard from (or, if never, since it is known as a member); null while it is reachable.</summary>
    private DateTimeOffset? DownSince(string nodeId) =>
        IsReachable(nodeId) ? null
            : _contacts.TryGetValue(nodeId, out PeerContact? contact) && contact.LastContact > _started ? contact.LastContact
            : KnownSince(nodeId);

    /// <summary>Since when <paramref name="nodeId"/> is known as a member: the table's start for those of the first <see cref="Retain"/> (or before any), else when it was first asked about or retained.</summary>
    private DateTimeOffset KnownSince(string nodeId) =>
        _known.IsEmpty ? _started : _known.GetOrAdd(nodeId, _ => time.GetUtcNow());

    /// <summary>Forgets peers that are no longer members, so a removed node does not linger in the view; starts the clock of new ones.</summary>
    public void Retain(IReadOnlySet<string> nodeIds)
    {
        DateTimeOffset since = _known.IsEmpty ? _started : time.GetUtcNow();
        foreach (string nodeId in nodeIds)
        {
            _known.TryAdd(nodeId, since);
        }

        foreach (string nodeId in _known.Keys.Where(id => !nodeIds.Contains(id)))
        {
            _known.TryRemove(nodeId, out _);
        }

        foreach (string nodeId in _contacts.Keys)
        {
            if (!nodeIds.Contains(nodeId))
            {
                _contacts.TryRemove(nodeId, out _);
            }
        }
    }
}
