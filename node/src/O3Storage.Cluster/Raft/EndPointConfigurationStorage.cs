using System.Net;
using DotNext.Buffers;
using DotNext.Net;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace O3Storage.Cluster.Raft;

/// <summary>Raft membership (cluster endpoints) persisted in the data directory, in DotNext's endpoint encoding.</summary>
internal sealed class EndPointConfigurationStorage(string path) : PersistentClusterConfigurationStorage<EndPoint>(path)
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output) => output.WriteEndPoint(address);

    protected override EndPoint Decode(ref SequenceReader reader) => reader.ReadEndPoint();

    /// <summary>
    /// Stores a membership of <paramref name="self"/> alone as of log index <paramref name="version"/>. DotNext
    /// versions a stored membership by the index of the log entry it came from, and its log re-stores every
    /// membership entry it applies at start whose index is above the stored one: a membership stored with a
    /// version below the log's last index is overwritten by the log's own older memberships.
    /// </summary>
    /// <returns>False when a membership of that version or a later one is stored already.</returns>
    public async Task<bool> StoreSoleMemberAsync(EndPoint self, long version, CancellationToken token)
    {
        IClusterConfiguration<EndPoint> membership = await ((IClusterConfigurationStorage<EndPoint>)this).LoadConfigurationAsync(token).ConfigureAwait(false);
        foreach (EndPoint member in membership.Members.ToArray())
        {
            membership = membership.Remove(member);
        }

        return await ((IClusterConfigurationStorage)this).SaveConfigurationAsync(membership.Add(self), version, token).ConfigureAwait(false);
    }
}
