// Owns: applying committed Raft entries to the MetadataState, and its snapshots on disk.
// Assumes: DotNext's WAL calls ApplyAsync in log order and never concurrently with itself.
// Faults: a record this node cannot decode (MetadataFormatException), or an apply that throws
// anything at all (a bug), stops the apply loop and completes Faulted, on which the host logs, steps
// down and exits 70, instead of skipping the record and diverging from the other members.
using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Raft;

public sealed class MetadataStateMachine : SimpleStateMachine
{
    /// <summary>Entries between snapshots: small enough that a restart replays little, large enough to not churn.</summary>
    public const int SnapshotIntervalEntries = 4096;

    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<MetadataState, MetadataCommand, long, MetadataState> _apply;
    private volatile MetadataState _state = MetadataState.Empty;
    private int _entriesSinceSnapshot;

    public MetadataStateMachine(DirectoryInfo snapshotDirectory, ApplyTrace? trace = null)
        : this(snapshotDirectory, static (state, command, index) => state.Apply(command, index))
    {
        Trace = trace;
    }

    /// <param name="apply">The state transition; tests put a failing one here to see the fault path.</param>
    internal MetadataStateMachine(DirectoryInfo snapshotDirectory, Func<MetadataState, MetadataCommand, long, MetadataState> apply)
        : base(snapshotDirectory)
    {
        _apply = apply;
    }

    public MetadataState State => _state;

    /// <summary>Where every applied entry and loaded snapshot is recorded (the chaos harness's divergence check); null: nowhere.</summary>
    public ApplyTrace? Trace { get; }

    /// <summary>Faults (never completes otherwise) when a committed entry could not be applied.</summary>
    public Task Faulted => _faulted.Task;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        MetadataState state = _state;
        if (entry.IsConfiguration || !entry.TryGetPayload(out ReadOnlySequence<byte> payload) || payload.IsEmpty)
        {
            Trace?.Applied(entry.Index, entry.Term, []);
            _state = state.Skip(entry.Index);
        }
        else
        {
            ReadOnlySpan<byte> record = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
            Trace?.Applied(entry.Index, entry.Term, record);
            ApplyRecord(record, entry.Index);
        }

        return ValueTask.FromResult(++_entriesSinceSnapshot >= SnapshotIntervalEntries);
    }

    /// <summary>Decodes and applies one committed record; any exception faults the state machine and is rethrown.</summary>
    internal void ApplyRecord(ReadOnlySpan<byte> record, long index)
    {
        try
        {
            _state = _apply(_state, MetadataCodec.Decode(record), index);
        }
        catch (Exception e)
        {
            // Whatever it was, this node cannot follow the log any further: stop, never skip.
            _faulted.TrySetException(e);
            throw;
        }
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
        Trace?.Restored(_state.LastAppliedIndex);
    }
}
