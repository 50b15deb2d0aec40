// Owns: the bootstrap-or-join decision of a node on first boot, as a pure function of what it knows
// about itself and what mDNS shows of its peers. No sockets, no clocks: the caller (the node's
// discovery loop) re-evaluates it whenever the view changes and acts on the result.
// Invariant: never two bootstraps in one cluster. A node votes once, and only when it sees the
// expected number of discovering nodes (itself included): for the lowest id among them, and the vote
// never changes. A node bootstraps only when it voted for itself and as many nodes as expected
// (itself included) show a vote for it. Two bootstraps would need two disjoint sets of that many
// voters: impossible unless at least twice the expected number of boards share the cluster name
// and token. A node that has ever been a member never bootstraps again. The price of final votes:
// if the node everyone voted for dies before it bootstraps, the others wait (and say for whom)
// until one of them is restarted. Simulated in tests/O3Storage.Provisioning.Tests.
// Adverts are hints: a peer counts only if it shows a proof of the same join token (a board with
// another token is another cluster, so it can neither join nor be voted for); the member still
// checks the token itself when a node joins.
namespace O3Storage.Provisioning;

/// <summary>What the node should do now.</summary>
public abstract record Decision
{
    private Decision()
    {
    }

    /// <summary>The node already has cluster state: start as the member it was, whatever mDNS shows.</summary>
    public sealed record Resume : Decision;

    /// <summary>Not yet: keep advertising (with <see cref="Vote"/>) and look again when the view changes.</summary>
    public sealed record Wait(string Reason, string? Vote) : Decision;

    /// <summary>Start the cluster with this node as its first member.</summary>
    public sealed record Bootstrap : Decision;

    /// <summary>Join through these members of the cluster (lowest first); any of them forwards to the leader.</summary>
    public sealed record Join(IReadOnlyList<string> Members) : Decision;
}

public static class BootstrapDecision
{
    /// <param name="self">This node's own advert (its id and cluster name; its state is ignored).</param>
    /// <param name="secret">The cluster's join token, from o3storage.txt.</param>
    /// <param name="hasMembership">The data directory holds cluster state (it bootstrapped or joined before).</param>
    /// <param name="expectedNodes">How many boards form the cluster at first (o3storage.txt), at least 1.</param>
    /// <param name="visible">Every advert mDNS shows now, of any cluster, possibly including this node's own.</param>
    /// <param name="vote">The vote this node already gave (the last <see cref="Decision.Wait.Vote"/>), or null.</param>
    public static Decision Decide(PeerAdvert self, ClusterSecret secret, bool hasMembership, int expectedNodes, IEnumerable<PeerAdvert> visible, string? vote)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(visible);
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedNodes, 1);
        if (hasMembership)
        {
            return new Decision.Resume();
        }

        // Other clusters on the same LAN are invisible here. A node can show more than one advert: one
        // avahi withdrew as a collision lingers in peers' caches under its old name (without a goodbye,
        // up to its TTL), so the advert's name says nothing. A node's state only moves forward
        // (discovering, then voted, since votes are final, then member), so the furthest one is current.
        List<PeerAdvert> peers = visible
            .Where(p => p.ClusterName == self.ClusterName && p.NodeId != self.NodeId && secret.VerifiesAdvert(p))
            .GroupBy(p => p.NodeId, StringComparer.Ordinal)
            .Select(g => g.MaxBy(Progress)!)
            .ToList();

        List<string> members = peers.Where(p => p.State == PeerState.Member).Select(p => p.NodeId).Order(NodeIdOrder.Instance).ToList();
        if (members.Count > 0)
        {
            return new Decision.Join(members);
        }

        List<PeerAdvert> discovering = [.. peers.Where(p => p.State == PeerState.Discovering), self with { State = PeerState.Discovering }];
        if (vote is null && discovering.Count < expectedNodes)
        {
            int otherToken = visible
                .Where(p => p.ClusterName == self.ClusterName && p.NodeId != self.NodeId && !secret.VerifiesAdvert(p))
                .Select(p => p.NodeId)
                .Distinct(StringComparer.Ordinal)
                .Count();
            string mismatch = otherToken == 0 ? "" : $"; {otherToken} node(s) of cluster '{self.ClusterName}' show another join token (compare o3storage.txt)";
            return new Decision.Wait($"{discovering.Count} of {expectedNodes} expected nodes of cluster '{self.ClusterName}' visible{mismatch}", null);
        }

        // Given once, for the lowest of the first full set seen, and kept.
        vote ??= discovering.Select(p => p.NodeId).Min(NodeIdOrder.Instance)!;
        if (vote != self.NodeId)
        {
            // The lowest node bootstraps; this one joins once that node advertises itself a member.
            return new Decision.Wait($"waiting for {vote} to bootstrap cluster '{self.ClusterName}'", vote);
        }

        int votes = 1 + discovering.Count(p => p.NodeId != self.NodeId && p.BootstrapVote == self.NodeId);
        return votes >= expectedNodes
            ? new Decision.Bootstrap()
            : new Decision.Wait($"{votes} of {expectedNodes} expected nodes agree that this node bootstraps", vote);
    }

    /// <summary>How far along provisioning an advert shows its node: 0 discovering, 1 voted, 2 member.</summary>
    private static int Progress(PeerAdvert advert) => advert.State == PeerState.Member ? 2 : advert.BootstrapVote is null ? 0 : 1;
}
