// Owns: applying committed Raft entries to the MetadataState, and its snapshots on disk.
// Assumes: DotNext's WAL calls ApplyAsync in log order and never concurrently with itself.
// Faults: a record this node cannot decode stops the apply loop with MetadataFormatException and
// completes Faulted, on which the host logs, steps down and exits 70, instead of skipping the record
// and diverging from the other members.
using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Raft;

public sealed class MetadataStateMachine(DirectoryInfo snapshotDirectory) : SimpleStateMachine(snapshotDirectory)
{
    /// <summary>Entries between snapshots: small enough that a restart replays little, large enough to not churn.</summary>
    public const int SnapshotIntervalEntries = 4096;

    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile MetadataState _state = MetadataState.Empty;
    private int _entriesSinceSnapshot;

    public MetadataState State => _state;

    /// <summary>Faults (never completes otherwise) when a committed entry could not be applied.</summary>
    public Task Faulted => _faulted.Task;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        MetadataState state = _state;
        if (entry.IsConfiguration || !entry.TryGetPayload(out ReadOnlySequence<byte> payload) || payload.IsEmpty)
        {
            _state = state.Skip(entry.Index);
        }
        else
        {
            try
            {
                MetadataCommand command = MetadataCodec.Decode(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());
                _state = state.Apply(command, entry.Index);
            }
            catch (Exception e) when (e is MetadataFormatException or InvalidOperationException)
            {
                _faulted.TrySetException(e);
                throw;
            }

        }

        return ValueTask.FromResult(++_entriesSinceSnapshot >= SnapshotIntervalEntries);
    }

    protected override async ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
    {
        _entriesSinceSnapshot = 0;
        await writer.Invoke(MetadataCodec.EncodeSnapshot(_state), token).ConfigureAwait(false);
    }

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        byte[] data = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        _state = MetadataCodec.DecodeSnapshot(data);
        _entriesSinceSnapshot = 0;
    }
}
