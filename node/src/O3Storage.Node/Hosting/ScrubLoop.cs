// Owns: the background scrub on this node: every blob committed metadata says this node holds is read
// back and checksum-verified, at a paced rate, pass after pass. A blob that is missing, of another size or
// CRC than metadata records, or that fails its checksum when read is reported to repair (DataPath.Report),
// which rewrites it from a verified copy on another holder. Reads find damage only where clients happen to
// read; the scrub finds it everywhere, before a second failure makes it unrecoverable.
// Bounded: paced by bytes per second (and the board's work factor); stops with its token.
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Storage;

namespace O3Storage.Node.Hosting;

/// <param name="report">Hands a bad replica to repair (DataPath.Report): (bucket, key, what is bad).</param>
internal sealed class ScrubLoop(string nodeId, Func<MetadataState> metadata, BlobStore store, Action<string, string, BadReplica> report, ScrubProgress progress, long bytesPerSecond, TimeSpan interval, TimeProvider time, ILogger logger)
{
    private const int ReadChunkBytes = 1024 * 1024;

    /// <summary>A pass that failed outright is tried again this soon (or at the next interval, if sooner).</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(5);

    /// <summary>A blob still bad this long after it was reported is reported again (its repair may have failed).</summary>
    public static readonly TimeSpan ReportAgainAfter = TimeSpan.FromMinutes(1);

    // Blobs reported and not yet seen good again, with when: repair takes a round or two, and a short
    // --scrub-interval would otherwise hand it the same blob every pass.
    private readonly Dictionary<UInt128, long> _reported = [];

    /// <summary>The share of the normal pace to run at now: 1.0, less on a hot board.</summary>
    public Func<double> WorkFactor { get; init; } = static () => 1.0;

    /// <summary>Whether a blob is applied from the Raft log and on its way into the store (InlineBlobs): not reported missing.</summary>
    public Func<UInt128, bool> Applying { get; init; } = static _ => false;

    /// <summary>Passes until <paramref name="token"/> ends; each starts <c>interval</c> after the previous one started (at once if that took longer).</summary>
    public async Task RunAsync(CancellationToken token)
    {
        if (bytesPerSecond <= 0)
        {
            return; // --scrub-rate 0: off, and /health says so
        }

        progress.Enable(bytesPerSecond);
        await Task.Yield(); // the first pass's listing and reads run off the caller's (startup) path
        while (!token.IsCancellationRequested)
        {
            long started = time.GetTimestamp();
            TimeSpan next = interval;
            try
            {
                await PassAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (!token.IsCancellationRequested)
            {
                NodeLog.ScrubFailed(logger, e.Message);
                next = TimeSpan.FromTicks(Math.Min(interval.Ticks, RetryAfterFailure.Ticks)); // not a whole interval without a scrub
            }

            TimeSpan rest = next - time.GetElapsedTime(started);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, time, token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>One pass over the blobs this node holds now; how many it found bad.</summary>
    public async Task<int> PassAsync(CancellationToken token)
    {
        IReadOnlyList<ScrubTarget> targets = ScrubTargets.Of(metadata(), nodeId);
        progress.BeginPass(targets.Count);
        long paced = time.GetTimestamp();
        double bytesSincePace = 0;
        int bad = 0;
        foreach (ScrubTarget target in targets)
        {
            token.ThrowIfCancellationRequested();
            // A read can race compaction moving the blob (its old location freed mid-read): a failure is
            // checked once more before it counts. A small object applied from the log a moment ago may not
            // be in the store yet (Applying): not missing, on its way.
            string? problem = Check(target.Blob) is null ? null : Check(target.Blob);
            if (problem is null)
            {
                _reported.Remove(target.Blob.BlobId);
            }
            else if (ScrubTargets.StillHeld(metadata(), nodeId, target) && !RecentlyReported(target.Blob.BlobId) && !Applying(target.Blob.BlobId))
            {
                // (Not still held: deleted, overwritten or moved since the pass began, so not this node's to hold.)
                bad++;
                progress.FoundBad();
                _reported[target.Blob.BlobId] = time.GetTimestamp();
                report(target.Bucket, target.Key, new BadReplica(nodeId, target.Blob, $"scrub: {problem}"));
            }

            progress.Checked(target.Blob.LengthBytes);

            // Pace: the bytes read so far may take bytes / rate seconds; sleep off any lead.
            bytesSincePace += target.Blob.LengthBytes;
            double rate = bytesPerSecond * Math.Clamp(WorkFactor(), 0.01, 1.0);
            TimeSpan lead = TimeSpan.FromSeconds(bytesSincePace / rate) - time.GetElapsedTime(paced);
            if (lead > TimeSpan.FromMilliseconds(10))
            {
                await Task.Delay(lead, time, token).ConfigureAwait(false);
            }

            if (time.GetElapsedTime(paced) > TimeSpan.FromSeconds(10))
            {
                paced = time.GetTimestamp(); // a fresh window now and then: a hot spell does not bank credit
                bytesSincePace = 0;
            }
        }

        // Forget reports of blobs this pass no longer found here (deleted or moved since).
        var listed = targets.Select(t => t.Blob.BlobId).ToHashSet();
        foreach (UInt128 gone in _reported.Keys.Where(b => !listed.Contains(b)).ToList())
        {
            _reported.Remove(gone);
        }

        progress.EndPass(time.GetUtcNow());
        if (bad > 0)
        {
            NodeLog.ScrubPassFoundBad(logger, targets.Count, bad);
        }

        return bad;
    }

    private bool RecentlyReported(UInt128 blob) => _reported.TryGetValue(blob, out long at) && time.GetElapsedTime(at) < ReportAgainAfter;

    /// <summary>Null when this node's store holds the blob as metadata records it and it reads back with a good checksum; else what is wrong.</summary>
    private string? Check(BlobRef blob)
    {
        var id = new BlobId(blob.BlobId);
        if (!store.TryStat(id, out BlobInfo? info) || info is null)
        {
            return "missing from this node's store";
        }

        if (info.LengthBytes != blob.LengthBytes || info.Crc32C != blob.Crc32C)
        {
            return $"holds {info.LengthBytes} bytes with CRC {info.Crc32C:x8}, metadata says {blob.LengthBytes} with {blob.Crc32C:x8}";
        }

        try
        {
            using Stream stream = store.OpenRead(id);
            stream.CopyTo(Stream.Null, ReadChunkBytes); // the store verifies the checksum as it reads
            return null;
        }
        catch (Exception e) when (e is StorageException or IOException)
        {
            return e.Message;
        }
    }
}

/// <summary>What the scrub has done, for /health and /metrics; updated by one loop, read by any thread.</summary>
internal sealed class ScrubProgress
{
    private readonly Lock _gate = new();
    private ScrubHealth _health = ScrubHealth.Off;
    private long _passTargets;
    private long _passChecked;

    public ScrubHealth Snapshot()
    {
        lock (_gate)
        {
            return _health with { PassProgress = _health.State == "scrubbing" && _passTargets > 0 ? Math.Round((double)_passChecked / _passTargets, 3) : 0 };
        }
    }

    public void Enable(long bytesPerSecond)
    {
        lock (_gate)
        {
            _health = _health with { State = "idle", RateBytesPerSecond = bytesPerSecond };
        }
    }

    public void BeginPass(int targets)
    {
        lock (_gate)
        {
            _passTargets = targets;
            _passChecked = 0;
            _health = _health with { State = "scrubbing" };
        }
    }

    public void Checked(long bytes)
    {
        lock (_gate)
        {
            _passChecked++;
            _health = _health with { CheckedBlobs = _health.CheckedBlobs + 1, CheckedBytes = _health.CheckedBytes + bytes };
        }
    }

    public void FoundBad()
    {
        lock (_gate)
        {
            _health = _health with { BadFound = _health.BadFound + 1 };
        }
    }

    public void EndPass(DateTimeOffset now)
    {
        lock (_gate)
        {
            _health = _health with { State = "idle", Passes = _health.Passes + 1, LastPassCompletedAt = now };
        }
    }
}
