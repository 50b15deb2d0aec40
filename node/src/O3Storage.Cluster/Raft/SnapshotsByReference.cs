// Owns: which snapshot DotNext sends a member that is behind the leader's: the snapshot itself, or, once
// every member reads them, a SnapshotReference to it (MetadataStateMachine fetches what one names).
// Assumes: DotNext reads IStateMachine.Snapshot for the snapshot to send, and only its index and term
// otherwise; the state machine's own snapshot files are what a restart reads and a fetch is served from.
using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Raft;

/// <summary>
/// The state machine as the write-ahead log sees it: <see cref="MetadataStateMachine"/>, except that the
/// snapshot it offers for sending is a reference (a few hundred bytes) when the cluster reads them
/// (<see cref="MetadataCodec.SnapshotReferenceLevel"/>) and this node can serve the snapshot it names.
/// </summary>
/// <param name="self">This node's id, which references name first; null: this node serves no snapshots, and sends them whole.</param>
internal sealed class SnapshotsByReference(MetadataStateMachine inner, string? self) : IStateMachine
{
    private Sent? _sent;

    public ISnapshot? Snapshot
    {
        get
        {
            ISnapshot? own = ((ISnapshotManager)inner).Snapshot;
            if (own is null || self is null || inner.State.ClusterLevel < MetadataCodec.SnapshotReferenceLevel)
            {
                return own;
            }

            Sent? sent = _sent;
            if (sent is null || !ReferenceEquals(sent.Own, own))
            {
                sent = new Sent(own, new SnapshotReference(own.Index, own.Term, inner.State.IncarnationId, inner.SourcesFor(self)).Encode());
                _sent = sent;
            }

            return sent;
        }
    }

    public ValueTask<long> ApplyAsync(LogEntry entry, CancellationToken token) => ((IStateMachine)inner).ApplyAsync(entry, token);

    public ValueTask ReclaimGarbageAsync(long watermark, CancellationToken token) => ((ISnapshotManager)inner).ReclaimGarbageAsync(watermark, token);

    /// <summary>The reference sent for <see cref="Own"/>: its index and term, the reference as its content.</summary>
    private sealed class Sent(ISnapshot own, byte[] content) : ISnapshot
    {
        public ISnapshot Own => own;

        public long Index => own.Index;

        public long Term => own.Term;

        public bool IsReusable => true;

        public long? Length => content.Length;

        public ValueTask WriteToAsync<TWriter>(TWriter writer, CancellationToken token)
            where TWriter : notnull, IAsyncBinaryWriter => writer.Invoke(content, token);

        public bool TryGetMemory(out ReadOnlyMemory<byte> memory)
        {
            memory = content;
            return true;
        }
    }
}
