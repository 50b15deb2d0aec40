// Owns: applying committed Raft entries to the MetadataState, and its snapshots on disk; handing the
// content of each applied PutInline to the node's store (IInlineBlobSink), and waiting for that store to
// have it durably before a snapshot lets DotNext drop the entries that carry it.
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

    /// <summary>
    /// Payload bytes between snapshots: with small objects in the entries (PutInline), 4096 entries could hold
    /// gigabytes of log; this bounds the log on disk (and what a restart replays) whatever the entries carry.
    /// </summary>
    public const long SnapshotIntervalBytes = 256L << 20;

    private readonly TaskCompletionSource _faulted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<MetadataState, MetadataCommand, long, MetadataState> _apply;
    private volatile MetadataState _state = MetadataState.Empty;
    private readonly IInlineBlobSink? _inline;
    private int _entriesSinceSnapshot;
    private long _bytesSinceSnapshot;

    /// <param name="inline">Where applied small objects' contents go (the node's store); null: nowhere (a read of the log alone).</param>
    public MetadataStateMachine(DirectoryInfo snapshotDirectory, ApplyTrace? trace = null, IInlineBlobSink? inline = null)
        : this(snapshotDirectory, static (state, command, index) => state.Apply(command, index))
    {
        Trace = trace;
        _inline = inline;
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
        MetadataCommand? command = null;
        if (entry.IsConfiguration || !entry.TryGetPayload(out ReadOnlySequence<byte> payload) || payload.IsEmpty)
        {
            Trace?.Applied(entry.Index, entry.Term, []);
            _state = state.Skip(entry.Index);
        }
        else
        {
            ReadOnlySpan<byte> record = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
            Trace?.Applied(entry.Index, entry.Term, record);
            command = ApplyRecord(record, entry.Index);
            _bytesSinceSnapshot += record.Length;
        }

        bool snapshot = ++_entriesSinceSnapshot >= SnapshotIntervalEntries || _bytesSinceSnapshot >= SnapshotIntervalBytes;
        return _inline is not null && command is PutInline or Batch
            ? HandOverAsync(_inline, command, snapshot, token)
            : ValueTask.FromResult(snapshot);
    }

    /// <summary>Gives the sink each PutInline of <paramref name="command"/> whose version the apply made current (not one a later command of the batch replaced, nor one into a bucket that is gone).</summary>
    private async ValueTask<bool> HandOverAsync(IInlineBlobSink inline, MetadataCommand command, bool snapshot, CancellationToken token)
    {
        IEnumerable<MetadataCommand> commands = command is Batch batch ? batch.Commands : [command];
        foreach (MetadataCommand one in commands)
        {
            if (one is PutInline put && put.Version.Blobs is [var blob]
                && _state.FindObject(put.Bucket, put.Version.Key)?.Blobs is [var current] && current.BlobId == blob.BlobId)
            {
                await inline.AppliedAsync(put, token).ConfigureAwait(false);
            }
        }

        return snapshot;
    }

    /// <summary>Decodes and applies one committed record (what it decoded); any exception faults the state machine and is rethrown.</summary>
    internal MetadataCommand ApplyRecord(ReadOnlySpan<byte> record, long index)
    {
        try
        {
            MetadataCommand command = MetadataCodec.Decode(record);
            _state = _apply(_state, command, index);
            return command;
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
        _bytesSinceSnapshot = 0;
        if (_inline is not null)
        {
            // The snapshot lets DotNext drop the entries it covers: the small objects they carry must be in the store first.
            await _inline.DurableAsync(token).ConfigureAwait(false);
        }

        // In chunks of one reused buffer, not the whole state as one array (a gigabyte at 5 million objects).
        foreach (ReadOnlyMemory<byte> chunk in MetadataCodec.EncodeSnapshotChunks(_state))
        {
            await writer.Invoke(chunk, token).ConfigureAwait(false);
        }
    }

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        // Through a window of the file, not the whole file in memory; no buffer of the stream's own (the window is one).
        await using (var file = new FileStream(snapshotFile.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan))
        {
            _state = MetadataCodec.DecodeSnapshot(file);
        }

        _entriesSinceSnapshot = 0;
        Trace?.Restored(_state.LastAppliedIndex);
    }
}
