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
}
