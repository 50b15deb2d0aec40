// Owns: fetching the metadata snapshot a leader named by reference (SnapshotReference) from the members
// it names, over their API (/internal/raft/snapshot), for as long as the transfer takes.
// Faults: each source that fails is logged with why, and the next is tried; when none gave one, the
// state machine tries again later (MetadataStateMachine).
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Raft;
using O3Storage.Node.Diagnostics;

namespace O3Storage.Node.Transport;

/// <param name="self">This node's id: never asked (a reference it sent may name it first).</param>
/// <param name="bearer">The admin key internal calls carry (null: none), asked at each fetch: the cluster's keys may change.</param>
internal sealed class SnapshotFetcher(PeerClient peers, string self, Func<string?> bearer, ILogger logger) : ISnapshotFetcher
{
    public async Task FetchAsync(SnapshotReference reference, Func<Stream, CancellationToken, Task> read, CancellationToken token)
    {
        var failures = new List<string>();
        foreach (string source in reference.Sources.Where(s => !string.Equals(s, self, StringComparison.Ordinal)))
        {
            long started = Stopwatch.GetTimestamp();
            NodeLog.SnapshotFetching(logger, reference.Index, source);
            try
            {
                long bytes = await peers.ReadSnapshotAsync(source, reference.Index, reference.Incarnation, bearer(), read, token).ConfigureAwait(false);
                NodeLog.SnapshotFetched(logger, reference.Index, source, Math.Round(bytes / 1048576.0, 1), Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 1));
                return;
            }
            catch (Exception e) when (e is ReplicaException or Cluster.Metadata.MetadataFormatException or IOException)
            {
                // Unreachable, refused, cut off, or bytes that are not a snapshot that new: the next source.
                NodeLog.SnapshotFetchFailed(logger, reference.Index, source, e.Message);
                failures.Add($"{source}: {e.Message}");
            }
        }

        throw new IOException(failures.Count == 0
            ? $"the reference to the snapshot at index {reference.Index} names no other node to fetch it from"
            : $"no node gave the snapshot at index {reference.Index} or later ({string.Join("; ", failures)})");
    }

    public void Installed(SnapshotReference reference, long appliedIndex, TimeSpan decoding, long heldBack, TimeSpan applying) =>
        NodeLog.SnapshotInstalled(logger, appliedIndex, Math.Round(decoding.TotalSeconds, 1), heldBack, Math.Round(applying.TotalSeconds, 1));
}
