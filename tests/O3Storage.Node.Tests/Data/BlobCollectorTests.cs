using O3Storage.Cluster.Metadata;
using O3Storage.Node.Data;
using O3Storage.Storage;

namespace O3Storage.Node.Tests.Data;

public sealed class BlobCollectorTests
{
    private static readonly DateTimeOffset s_start = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private static readonly BlobId s_a = new(1);
    private static readonly BlobId s_b = new(2);
    private static readonly BlobId s_c = new(3);

    [Fact]
    public void Orphans_WaitTheGrace_ReleasedBlobs_OnlyTheDelay_LiveOnesNever()
    {
        var collector = new BlobCollector(orphanGrace: TimeSpan.FromHours(1), releaseDelay: TimeSpan.FromSeconds(30));
        (BlobId, ulong)[] local = [(s_a, 1), (s_b, 2), (s_c, 3)];

        Assert.Empty(collector.Scan(local, [s_a, s_b], s_start)); // c: an orphan, due in an hour
        Assert.Empty(collector.Scan(local, [s_a], s_start.AddSeconds(10))); // b released: due in 30 s
        Assert.Empty(collector.Scan(local, [s_a], s_start.AddSeconds(39)));
        Assert.Equal([s_b], collector.Scan(local, [s_a], s_start.AddSeconds(40)));
        Assert.Equal([s_b], collector.Scan(local, [s_a], s_start.AddMinutes(59))); // until it is gone
        Assert.Equal([s_c], collector.Scan([(s_a, 1), (s_c, 3)], [s_a], s_start.AddHours(1)));
        Assert.Empty(collector.Scan([(s_a, 1)], [s_a], s_start.AddDays(1)));
    }

    [Fact]
    public void ABlobThatBecomesLiveAgain_IsForgiven()
    {
        var collector = new BlobCollector(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1));
        Assert.Empty(collector.Scan([(s_a, 1)], [], s_start)); // an upload still streaming...
        Assert.Empty(collector.Scan([(s_a, 1)], [s_a], s_start.AddSeconds(50))); // ...committed in time
        Assert.Equal(0, collector.Waiting);
        Assert.Empty(collector.Scan([(s_a, 1)], [s_a], s_start.AddMinutes(5)));
    }

    [Fact]
    public void AReleasedBlobStoredAgain_StartsOverAsAnOrphan()
    {
        // Repair copies a blob back to a node that held it once: the copy must outlive the repair's commit.
        var collector = new BlobCollector(TimeSpan.FromMinutes(10), TimeSpan.FromSeconds(30));
        Assert.Empty(collector.Scan([(s_a, 1)], [s_a], s_start));
        Assert.Empty(collector.Scan([(s_a, 1)], [], s_start.AddSeconds(1))); // released: due in 30 s
        Assert.Empty(collector.Scan([(s_a, 7)], [], s_start.AddSeconds(20))); // written again (sequence 7)
        Assert.Empty(collector.Scan([(s_a, 7)], [], s_start.AddSeconds(60))); // now an orphan: 10 minutes
        Assert.Equal([s_a], collector.Scan([(s_a, 7)], [], s_start.AddMinutes(11)));
    }

    [Fact]
    public void ABlobReleasedBeforeAnyScanSawItLive_WaitsOnlyTheDelay()
    {
        var collector = new BlobCollector(TimeSpan.FromHours(1), TimeSpan.FromSeconds(30));
        HashSet<BlobId> released = [s_a, s_b];
        Assert.Empty(collector.Scan([(s_b, 2)], _ => false, s_start)); // b: first seen unreferenced (an orphan, an hour)
        Assert.Empty(collector.Scan([(s_a, 1), (s_b, 2), (s_c, 3)], _ => false, s_start.AddSeconds(1), released)); // both released since
        Assert.Equal([s_a, s_b], collector.Scan([(s_a, 1), (s_b, 2), (s_c, 3)], _ => false, s_start.AddSeconds(31)));
        Assert.Empty(collector.Scan([(s_c, 3)], _ => false, s_start.AddMinutes(59))); // c, never released: the orphan grace
        Assert.Empty(collector.Scan([(s_c, 3)], id => id == s_c, s_start.AddMinutes(59), new HashSet<BlobId> { s_c })); // live wins over released
    }
}
