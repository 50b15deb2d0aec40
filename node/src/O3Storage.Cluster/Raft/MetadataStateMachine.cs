// Owns: applying committed Raft entries to the MetadataState, and its snapshots on disk; handing the
// content of each applied PutInline to the node's store (IInlineBlobSink), and waiting for that store to
// have it durably before a snapshot lets DotNext drop the entries that carry it; fetching a snapshot the
// leader named by reference (SnapshotReference) through the node (ISnapshotFetcher), holding back the
// entries after it (DeferredEntries) and linearizable reads (Ready) until it is here.
// Assumes: DotNext's WAL calls ApplyAsync in log order and never concurrently with itself, and installs
// a snapshot (RestoreAsync) only between applies.
// Faults: a record this node cannot decode (MetadataFormatException), or an apply that throws
// anything at all (a bug), stops the apply loop and completes Faulted, on which the host logs, steps
// down and exits 70, instead of skipping the record and diverging from the other members. A fetch that
// fails is tried again (1 s, doubling to 30 s) until one succeeds or a newer snapshot replaces it.
using System.Buffers;
using System.Collections.Immutable;
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
    private readonly DirectoryInfo _directory;
    private readonly ISnapshotFetcher? _fetcher;
    private readonly Action<string>? _fsyncDirectory;
    private readonly CancellationTokenSource _lifetime = new();
    private int _entriesSinceSnapshot;
    private long _bytesSinceSnapshot;

    // Entries up to here are in the state already: a fetched snapshot may be newer than the reference it answers.
    private long _skipThrough;
    private volatile Fetch? _fetch;

    // Non-null while a fetch runs: the entries committed after the reference wait here (HoldBackOrApplyAsync).
    private DeferredEntries? _deferred;
    private readonly SemaphoreSlim _deferGate = new(1, 1);

    /// <summary>The snapshot named by <see cref="Reference"/>, being fetched into its reference's file at <see cref="Path"/>.</summary>
    private sealed record Fetch(SnapshotReference Reference, string Path, CancellationTokenSource Cancel)
    {
        public Task Done { get; set; } = Task.CompletedTask;
    }

    /// <param name="inline">Where applied small objects' contents go (the node's store); null: nowhere (a read of the log alone).</param>
    /// <param name="fetcher">Fetches a snapshot the leader sent by reference; null: a reference cannot be read (a read of the log alone).</param>
    /// <param name="fsyncDirectory">Makes a fetched snapshot's name durable; null: not (tests).</param>
    public MetadataStateMachine(DirectoryInfo snapshotDirectory, ApplyTrace? trace = null, IInlineBlobSink? inline = null, ISnapshotFetcher? fetcher = null, Action<string>? fsyncDirectory = null)
        : this(snapshotDirectory, static (state, command, index) => state.Apply(command, index))
    {
        Trace = trace;
        _inline = inline;
        _fetcher = fetcher;
        _fsyncDirectory = fsyncDirectory;
    }

    /// <param name="apply">The state transition; tests put a failing one here to see the fault path.</param>
    internal MetadataStateMachine(DirectoryInfo snapshotDirectory, Func<MetadataState, MetadataCommand, long, MetadataState> apply)
        : base(snapshotDirectory)
    {
        _apply = apply;
        _directory = snapshotDirectory;
    }

    public MetadataState State => _state;

    /// <summary>Completes once no snapshot is being fetched: until then <see cref="State"/> is older than the log says, and a linearizable read must wait.</summary>
    public Task Ready => _fetch?.Done ?? Task.CompletedTask;

    /// <summary>The reference whose snapshot is being fetched; null when none is.</summary>
    public SnapshotReference? Fetching => _fetch is { Done.IsCompleted: false } fetch ? fetch.Reference : null;

    /// <summary>Where every applied entry and loaded snapshot is recorded (the chaos harness's divergence check); null: nowhere.</summary>
    public ApplyTrace? Trace { get; }

    /// <summary>Faults (never completes otherwise) when a committed entry could not be applied.</summary>
    public Task Faulted => _faulted.Task;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        ReadOnlySequence<byte> payload = default;
        bool hasRecord = !entry.IsConfiguration && entry.TryGetPayload(out payload) && !payload.IsEmpty;
        ReadOnlySpan<byte> record = !hasRecord ? default : payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        return Volatile.Read(ref _deferred) is null
            ? ApplyEntry(entry.Index, entry.Term, record, hasRecord, token)
            : HoldBackOrApplyAsync(entry.Index, entry.Term, hasRecord ? record.ToArray() : null, token);
    }

    private ValueTask<bool> ApplyEntry(long index, long term, ReadOnlySpan<byte> record, bool hasRecord, CancellationToken token)
    {
        if (index <= _skipThrough)
        {
            return ValueTask.FromResult(false);
        }

        MetadataCommand? command = null;
        if (!hasRecord)
        {
            Trace?.Applied(index, term, []);
            _state = _state.Skip(index);
        }
        else
        {
            Trace?.Applied(index, term, record);
            command = ApplyRecord(record, index);
            _bytesSinceSnapshot += record.Length;
        }

        bool snapshot = ++_entriesSinceSnapshot >= SnapshotIntervalEntries || _bytesSinceSnapshot >= SnapshotIntervalBytes;
        return _inline is not null && command is PutInline or Batch
            ? HandOverAsync(_inline, command, snapshot, token)
            : ValueTask.FromResult(snapshot);
    }

    /// <summary>
    /// While the snapshot a reference names is being fetched, the entries after it are held back (applied to
    /// the older state they would diverge), and applied once it is here; this never waits for the fetch.
    /// </summary>
    private async ValueTask<bool> HoldBackOrApplyAsync(long index, long term, byte[]? record, CancellationToken token)
    {
        await _deferGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_deferred is { } deferred)
            {
                deferred.Add(index, term, record, record is not null);
                return false;
            }
        }
        finally
        {
            _deferGate.Release();
        }

        return await ApplyEntry(index, term, record, record is not null, token).ConfigureAwait(false);
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
        // A newer snapshot, of either kind, replaces one being fetched, and the entries held back for it
        // (all before this snapshot: DotNext installs one only past its commit index). No apply runs
        // meanwhile: DotNext installs a snapshot under its log's exclusive lock.
        await StopFetchingAsync().ConfigureAwait(false);
        DropHeldBack();
        MetadataState state;
        // Through a window of the file, not the whole file in memory; no buffer of the stream's own (the window is one).
        await using (var file = new FileStream(snapshotFile.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan))
        {
            byte[] head = new byte[4];
            if (file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && SnapshotReference.StartsReference(head))
            {
                SnapshotReference reference = ReadReference(file, snapshotFile);
                // No '-' in the name: DotNext takes "*-*" files in this directory for snapshots.
                _deferred = new DeferredEntries(Path.Combine(_directory.FullName, "held.entries"));
                StartFetching(reference, snapshotFile.FullName);
                return;
            }

            file.Position = 0;
            state = MetadataCodec.DecodeSnapshot(file);
        }

        Restored(state);
    }

    private SnapshotReference ReadReference(FileStream file, FileInfo snapshotFile)
    {
        const int ReferenceBytesMax = 64 << 10;
        if (file.Length > ReferenceBytesMax)
        {
            throw new MetadataFormatException($"{snapshotFile.FullName}: a snapshot reference of {file.Length} bytes");
        }

        byte[] bytes = new byte[file.Length];
        file.Position = 0;
        file.ReadExactly(bytes);
        SnapshotReference reference = SnapshotReference.Decode(bytes);
        return _fetcher is null
            ? throw new MetadataFormatException($"{snapshotFile.FullName}: the snapshot at index {reference.Index} is still to be fetched from {string.Join(", ", reference.Sources)}, and this reader of the log cannot fetch")
            : reference;
    }

    private void Restored(MetadataState state)
    {
        _state = state;
        _skipThrough = state.LastAppliedIndex;
        _entriesSinceSnapshot = 0;
        _bytesSinceSnapshot = 0;
        Trace?.Restored(state.LastAppliedIndex);
    }

    private void StartFetching(SnapshotReference reference, string path)
    {
        var fetch = new Fetch(reference, path, CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token));
        fetch.Done = Task.Run(() => FetchAsync(fetch), CancellationToken.None);
        _fetch = fetch;
    }

    private async Task StopFetchingAsync()
    {
        if (Interlocked.Exchange(ref _fetch, null) is { } fetch)
        {
            await fetch.Cancel.CancelAsync().ConfigureAwait(false);
            await fetch.Done.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            fetch.Cancel.Dispose();
        }
    }

    /// <summary>Reads the snapshot into a state while it arrives, keeping a copy in <paramref name="incoming"/> (flushed to disk): one pass, not a transfer and then a read-back.</summary>
    /// <exception cref="MetadataFormatException">Not a whole snapshot, or one older than <paramref name="minIndex"/>.</exception>
    private static MetadataState ReadWhileArriving(Stream body, string incoming, long minIndex)
    {
        using var file = new FileStream(incoming, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
        var tee = new ObservedReadStream(body, file.Write, leaveOpen: true);
        MetadataState state = MetadataCodec.DecodeSnapshot(tee);
        if (state.LastAppliedIndex < minIndex)
        {
            throw new MetadataFormatException($"the snapshot is as of index {state.LastAppliedIndex}, before the {minIndex} the leader named");
        }

        tee.Drain();
        file.Flush(flushToDisk: true);
        return state;
    }

    private void DropHeldBack()
    {
        _deferred?.Dispose();
        // Published after the state it was held back for: the apply loop reads it without the gate.
        Volatile.Write(ref _deferred, null);
    }

    /// <summary>
    /// Fetches the snapshot <paramref name="fetch"/> names until one arrives: decoded whole, at the
    /// reference's index or later, it replaces the reference in its file (a restart restores the
    /// snapshot, not the reference), then the state, and the entries held back meanwhile are applied.
    /// </summary>
    private async Task FetchAsync(Fetch fetch)
    {
        // No '-' in the name: DotNext takes "*-*" files in this directory for snapshots.
        string incoming = Path.Combine(_directory.FullName, "incoming.snapshot");
        CancellationToken token = fetch.Cancel.Token;
        TimeSpan pause = TimeSpan.FromSeconds(1);
        MetadataState state;
        long decoding;
        while (true)
        {
            try
            {
                MetadataState? read = null;
                decoding = System.Diagnostics.Stopwatch.GetTimestamp();
                await _fetcher!.FetchAsync(fetch.Reference, (body, _) => Task.Run(() => read = ReadWhileArriving(body, incoming, fetch.Reference.Index)), token).ConfigureAwait(false);
                state = read ?? throw new MetadataFormatException("the fetch ended without a snapshot");
                break;
            }
            catch (Exception) when (!token.IsCancellationRequested)
            {
                // The fetcher has said why (the node's log); try again later.
                await Task.Delay(pause, token).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }

        TimeSpan decoded = System.Diagnostics.Stopwatch.GetElapsedTime(decoding);
        await _deferGate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            File.Move(incoming, fetch.Path, overwrite: true);
            _fsyncDirectory?.Invoke(_directory.FullName);
            Restored(state);
            long applying = System.Diagnostics.Stopwatch.GetTimestamp();
            long heldBack = 0;
            if (_deferred is { } deferred)
            {
                // In log order, those the snapshot holds already skipped; what the apply loop brings next waits at the gate.
                foreach ((long index, long term, byte[]? record) in deferred.ReadAll())
                {
                    await ApplyEntry(index, term, record, record is not null, _lifetime.Token).ConfigureAwait(false);
                    heldBack++;
                }

                DropHeldBack();
            }

            _fetcher!.Installed(fetch.Reference, state.LastAppliedIndex, decoded, heldBack, System.Diagnostics.Stopwatch.GetElapsedTime(applying));
        }
        finally
        {
            _deferGate.Release();
        }
    }

    /// <summary>
    /// The newest snapshot file here, open for reading, when it is at <paramref name="minIndex"/> or later
    /// (with the index its name gives; the state in it may be newer); null when there is none, or only a
    /// reference still being fetched.
    /// </summary>
    public (FileStream Stream, long Index)? OpenSnapshot(long minIndex)
    {
        string? newest = null;
        long newestIndex = -1;
        foreach (FileInfo file in _directory.EnumerateFiles("*-*"))
        {
            if (file.Name.Split('-') is [var index, _] && long.TryParse(index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) && value > newestIndex)
            {
                (newest, newestIndex) = (file.FullName, value);
            }
        }

        if (newest is null || newestIndex < minIndex)
        {
            return null;
        }

        FileStream stream;
        try
        {
            // Delete too: DotNext may drop the file once a newer one is taken; this read goes on from the open file.
            stream = new FileStream(newest, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.SequentialScan | FileOptions.Asynchronous);
        }
        catch (FileNotFoundException)
        {
            return null;
        }

        byte[] head = new byte[4];
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length || SnapshotReference.StartsReference(head))
        {
            stream.Dispose();
            return null;
        }

        stream.Position = 0;
        return (stream, newestIndex);
    }

    /// <summary>Whom a reference this node sends names: itself (unless it is fetching too), every member, and the sources of what it fetches.</summary>
    internal ImmutableArray<string> SourcesFor(string? self)
    {
        SnapshotReference? fetching = Fetching;
        IEnumerable<string> sources = (self is null || fetching is not null ? Array.Empty<string>() : [self])
            .Concat(_state.Members.Keys.Order(StringComparer.Ordinal))
            .Concat(fetching?.Sources ?? []);
        return [.. sources.Distinct(StringComparer.Ordinal)];
    }

    public override async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await StopFetchingAsync().ConfigureAwait(false);
        DropHeldBack();
        await base.DisposeAsync().ConfigureAwait(false);
        _lifetime.Dispose();
        _deferGate.Dispose();
    }
}
