namespace O3Storage.Provisioning;

/// <summary>What a node's mDNS record says about it (TXT of <c>_o3storage._tcp</c>). A hint, never proof.</summary>
/// <param name="NodeId">The node's <c>ip:port</c>, as it will be known in the cluster.</param>
/// <param name="ClusterName">The cluster this node belongs to or wants to form (from o3storage.txt).</param>
/// <param name="State">Where the node is in provisioning.</param>
/// <param name="TokenProof">Proof, over the whole advert, that the node holds the cluster's join token (<see cref="ClusterSecret.AdvertProof"/>).</param>
/// <param name="BootstrapVote">While discovering: the node id this node would let bootstrap; null otherwise.</param>
public sealed record PeerAdvert(string NodeId, string ClusterName, PeerState State, string? TokenProof, string? BootstrapVote = null);

public enum PeerState
{
    /// <summary>No cluster state yet: looking for peers.</summary>
    Discovering,

    /// <summary>A member of its cluster (bootstrapped it or joined it); can take joins.</summary>
    Member,
}
