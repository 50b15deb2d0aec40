// o3-metadata-bench: how the node's metadata costs grow with the number of objects (issue 21, item 4),
// measured on the node's own code in one process: no cluster, so millions of objects take seconds to
// make instead of hours of PUTs. For each count it builds a state of that many objects in one bucket
// (three replicas each, as a 3-node cluster keeps them), then measures:
//   - the snapshot the node writes (MetadataCodec.EncodeSnapshotChunks, to a file): time and size;
//   - reading it back from the file (DecodeSnapshot), which a restarted node does before it serves: time, and the
//     managed heap the decoded state holds per object (what a node's memory grows by);
//   - one more PUT applied (MetadataState.Apply): what a change costs at that size;
//   - a 1000-key listing page from the start of the bucket and from 90 % in;
//   - one placement survey (ReplicaPlanner.Survey), which each node runs over every object when a
//     member or its liveness changed, and the survey brought up to date after 100 more PUTs
//     (SurveyCache following the changes), what a round under writes costs, at most every 5 s.
// Prints one JSON line per count. Usage: o3-metadata-bench [--objects 100000,1000000,5000000]
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;

if (args is ["--grow-snapshot", string file, string bucketName, string likeKey, string added])
{
    return GrowSnapshot(file, bucketName, likeKey, int.Parse(added, CultureInfo.InvariantCulture));
}

int[] counts = [100_000, 1_000_000, 5_000_000];
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--objects" && i + 1 < args.Length)
    {
        counts = [.. args[++i].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))];
    }
    else
    {
        Console.Error.WriteLine($"o3-metadata-bench: unknown argument {args[i]}; usage: o3-metadata-bench [--objects 100000,1000000,5000000] | --grow-snapshot FILE BUCKET LIKE-KEY COUNT");
        return 2;
    }
}

string[] nodes = ["127.0.0.1:8080", "127.0.0.2:8080", "127.0.0.3:8080"];
foreach (int count in counts)
{
    Console.WriteLine(Measure(count));
}

return 0;

string Measure(int count)
{
    // As the node writes and reads it (MetadataStateMachine): in chunks to a file, back through a window of it.
    string snapshot = Path.Combine(Path.GetTempPath(), $"o3-metadata-bench-{Environment.ProcessId}.snapshot");
    try
    {
        MetadataState built = Build(count);
        var encoding = Stopwatch.StartNew();
        using (var file = new FileStream(snapshot, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            foreach (ReadOnlyMemory<byte> chunk in MetadataCodec.EncodeSnapshotChunks(built))
            {
                file.Write(chunk.Span);
            }
        }

        encoding.Stop();
        built = null!;
        Settle();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var decoding = Stopwatch.StartNew();
        MetadataState state;
        using (var file = new FileStream(snapshot, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan))
        {
            state = MetadataCodec.DecodeSnapshot(file);
        }

        decoding.Stop();
        Settle();
        long heldBytes = GC.GetTotalMemory(forceFullCollection: true) - before;

        double apply = MedianMs(200, n => state.Apply(new PutObject("bench", Version($"zz-new-{n:D8}", state.LastAppliedIndex + 1)), state.LastAppliedIndex + 1));
        ObjectIndex objects = state.Buckets["bench"].Objects;
        string deep = Key((int)(count * 0.9));
        double firstPage = MedianMs(50, _ => objects.From(string.Empty, inclusive: true).Take(1000).Count());
        double deepPage = MedianMs(50, _ => objects.From(deep, inclusive: false).Take(1000).Count());
        MemberLiveness live = MemberLiveness.AllUp(DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5));
        var cache = new SurveyCache();
        var surveying = Stopwatch.StartNew();
        PlacementSurvey survey = cache.Survey(state, live);
        surveying.Stop();
        if (survey.Objects != count)
        {
            throw new InvalidOperationException($"the survey saw {survey.Objects} objects, not {count}");
        }

        MetadataState written = state;
        for (int n = 0; n < 100; n++)
        {
            written = written.Apply(new PutObject("bench", Version($"zz-more-{n:D8}", written.LastAppliedIndex + 1)), written.LastAppliedIndex + 1);
        }

        var following = Stopwatch.StartNew();
        PlacementSurvey followed = cache.Survey(written, live);
        following.Stop();
        if (followed.Objects != count + 100 || cache.FullSurveys != 1)
        {
            throw new InvalidOperationException($"the survey after 100 PUTs saw {followed.Objects} objects, with {cache.FullSurveys} full walks");
        }

        GC.KeepAlive(state);
        return string.Create(CultureInfo.InvariantCulture,
            $"{{\"objects\":{count},\"snapshot_bytes\":{new FileInfo(snapshot).Length},\"encode_ms\":{encoding.Elapsed.TotalMilliseconds:F0},\"decode_ms\":{decoding.Elapsed.TotalMilliseconds:F0}," +
            $"\"heap_bytes_per_object\":{(double)heldBytes / count:F0},\"apply_put_ms\":{apply:F3},\"list_first_page_ms\":{firstPage:F3},\"list_deep_page_ms\":{deepPage:F3},\"survey_ms\":{surveying.Elapsed.TotalMilliseconds:F0},\"survey_after_100_puts_ms\":{following.Elapsed.TotalMilliseconds:F1}}}");
    }
    finally
    {
        File.Delete(snapshot);
    }
}

// For bench/growth_bench.py, which measures real nodes with millions of objects without hours of PUTs: adds
// COUNT objects to BUCKET in a stopped node's Raft snapshot FILE, each a copy of the object LIKE-KEY under
// another key (the same blob and replicas: every node of the cluster already holds it, so scrub, repair
// and collection have nothing to do for them). Every node's latest snapshot grown alike, the members
// still agree at every index: the log after a snapshot never touches these keys. Rewrites FILE in place
// (through a temporary file and a rename).
static int GrowSnapshot(string file, string bucketName, string likeKey, int added)
{
    MetadataState state;
    using (var read = new FileStream(file, FileMode.Open, FileAccess.Read))
    {
        state = MetadataCodec.DecodeSnapshot(read);
    }

    BucketState bucket = state.Buckets[bucketName];
    ObjectVersion like = bucket.Objects.Find(likeKey) ?? throw new InvalidOperationException($"{file}: no object {likeKey} in {bucketName}");
    ObjectIndex objects = ObjectIndex.Create(bucket.Objects.Concat(Enumerable.Range(0, added).Select(n => like with { Key = Key(n) })));
    MetadataState grown = MetadataState.Create(
        state.LastAppliedIndex,
        state.IncarnationId,
        state.Settings,
        state.Members.Values,
        state.Buckets.Values.Select(b => b.Info.Name == bucketName ? b with { Objects = objects } : b),
        state.Removed.Values,
        state.Maintenance,
        state.Snapshots.Values,
        state.LastRestore,
        state.ClusterLevel,
        state.ApiKeys);
    string temporary = file + ".growing";
    using (var write = new FileStream(temporary, FileMode.Create, FileAccess.Write))
    {
        foreach (ReadOnlyMemory<byte> chunk in MetadataCodec.EncodeSnapshotChunks(grown))
        {
            write.Write(chunk.Span);
        }

        write.Flush(flushToDisk: true);
    }

    File.Move(temporary, file, overwrite: true);
    Console.WriteLine($"{{\"objects\":{objects.Count},\"snapshot_bytes\":{new FileInfo(file).Length}}}");
    return 0;
}

MetadataState Build(int count)
{
    // Keys as a backup tool writes them: a few levels of directories, then a file name.
    var versions = new ObjectVersion[count];
    for (int n = 0; n < count; n++)
    {
        versions[n] = Version(Key(n), n + 10);
    }

    var bucket = new BucketState(new BucketRecord("bench", 1_700_000_000_000, 5), ObjectIndex.Create(versions));
    return MetadataState.Create(
        count + 10,
        Guid.NewGuid(),
        new ClusterSettings("bench", 3, ConsistencyLevel.Strong),
        nodes.Select((id, i) => new MemberRecord(id, id.Replace(":8080", ":8090", StringComparison.Ordinal), Guid.NewGuid(), i + 1)),
        [bucket]);
}

static string Key(int n) => string.Create(CultureInfo.InvariantCulture, $"host-{n % 7}/snapshots/{n / 1000:D5}/data-{n:D9}.pack");

ObjectVersion Version(string key, long index) => new(
    key,
    index,
    4096,
    Convert.ToHexStringLower(BitConverter.GetBytes(index * 2654435761L)).PadLeft(32, '0'),
    "application/octet-stream",
    1_700_000_000_000 + index,
    [],
    [new BlobRef(((UInt128)(ulong)index << 64) | (ulong)(index * 31), 4096, (uint)index)],
    [.. nodes]);

static double MedianMs(int times, Action<int> work)
{
    var samples = new double[times];
    for (int n = 0; n < times; n++)
    {
        long started = Stopwatch.GetTimestamp();
        work(n);
        samples[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    Array.Sort(samples);
    return samples[times / 2];
}

static void Settle()
{
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    GC.WaitForPendingFinalizers();
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
}
