// Owns: deciding which of this node's blobs are garbage. A blob is live while a committed object
// version or an uploaded part, current or kept by a snapshot, lists this node as a replica and the
// blob among its pieces. Garbage
// comes in two kinds: released blobs (live at the last scan, not now: the object was deleted or
// overwritten) go after a short delay, so reads that started before the change can finish; orphans
// (never seen live: a write whose commit never happened, or a replica dropped mid-write) go only after
// the orphan grace, which must outlast the slowest upload still streaming toward its commit.
// Pure bookkeeping: the loop that lists the store, reads the metadata and deletes is NodeHost's;
// which blobs the metadata names on this node is LiveBlobs'.
using O3Storage.Cluster.Metadata;
using O3Storage.Storage;

namespace O3Storage.Node.Data;

internal sealed class BlobCollector(TimeSpan orphanGrace, TimeSpan releaseDelay)
{
    private readonly Dictionary<BlobId, (DateTimeOffset Due, ulong Sequence)> _due = [];
    private HashSet<BlobId> _liveAtLastScan = [];

    /// <summary>
    /// One scan: the local blobs whose time has come, given what is live now. Each local blob comes with
    /// its record's sequence: a blob stored again since it was first seen unreferenced (repair copying
    /// it back, say) is a new write and starts over as an orphan.
    /// </summary>
    public List<BlobId> Scan(IEnumerable<(BlobId Id, ulong Sequence)> local, HashSet<BlobId> live, DateTimeOffset now) => Scan(local, live.Contains, now);

    /// <inheritdoc cref="Scan(IEnumerable{ValueTuple{BlobId, ulong}}, HashSet{BlobId}, DateTimeOffset)"/>
    /// <param name="isLive">Whether the metadata names a blob on this node (<see cref="LiveBlobs.Contains"/>).</param>
    /// <param name="released">
    /// Blobs known to have been committed and then let go since the last scan (<see cref="LiveBlobs.TakeReleased"/>):
    /// they wait the release delay even when no scan saw them live (a backup tool's temporary file, written
    /// and deleted within one round, would otherwise wait the orphan grace, filling a small store).
    /// </param>
    public List<BlobId> Scan(IEnumerable<(BlobId Id, ulong Sequence)> local, Func<BlobId, bool> isLive, DateTimeOffset now, IReadOnlySet<BlobId>? released = null)
    {
        var garbage = new List<BlobId>();
        var waiting = new HashSet<BlobId>();
        var liveHere = new HashSet<BlobId>();
        foreach ((BlobId id, ulong sequence) in local)
        {
            if (isLive(id))
            {
                liveHere.Add(id);
                continue;
            }

            waiting.Add(id);
            if (!_due.TryGetValue(id, out var entry) || entry.Sequence != sequence)
            {
                bool wasLive = _liveAtLastScan.Contains(id) && !_due.ContainsKey(id);
                entry = (now + (wasLive || released?.Contains(id) == true ? releaseDelay : orphanGrace), sequence);
                _due[id] = entry;
            }
            else if (released?.Contains(id) == true && now + releaseDelay < entry.Due)
            {
                entry = (now + releaseDelay, sequence); // first seen before its commit (an orphan then), since released
                _due[id] = entry;
            }

            if (now >= entry.Due)
            {
                garbage.Add(id);
            }
        }

        // Forget blobs that became live again or left the store.
        foreach (BlobId id in _due.Keys.Where(id => !waiting.Contains(id)).ToList())
        {
            _due.Remove(id);
        }

        _liveAtLastScan = liveHere; // only what this node holds: a set of every live blob would be kept between rounds
        return garbage;
    }

    /// <summary>Blobs waiting out their delay.</summary>
    public int Waiting => _due.Count;
}
