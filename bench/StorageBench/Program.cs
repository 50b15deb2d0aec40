// The blob-store side of `make bench` (bench/storage_bench.py runs fio on the same file beside it).
// Each command prints one JSON object on stdout. The store is used exactly as a node uses it: a
// LibcBlockDevice (O_DIRECT|O_DSYNC) under a BlobStore, every put durable when it returns.
//
//   seq DEVICE BLOB_BYTES TOTAL_BYTES   format, put TOTAL/BLOB blobs, read them all back
//   puts DEVICE BLOB_BYTES COUNT        format, COUNT durable puts of BLOB_BYTES each
//   fill DEVICE BLOB_BYTES COUNT        add COUNT blobs to the existing store on DEVICE (a node's)
//   open DEVICE                         open (recover) the store; time, blobs, RSS
using System.Diagnostics;
using System.Globalization;
using O3Storage.Storage;
using O3Storage.Storage.Devices;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: o3-storage-bench seq|puts|fill|open DEVICE [BLOB_BYTES COUNT|TOTAL]");
    return 2;
}

string device = args[1];
long Arg(int i) => long.Parse(args[i], CultureInfo.InvariantCulture);

switch (args[0])
{
    case "seq":
        {
            long blobBytes = Arg(2);
            long count = Arg(3) / blobBytes;
            using LibcBlockDevice dev = LibcBlockDevice.Open(device, requireDirectIo: true);
            using BlobStore store = BlobStore.Format(dev, Guid.NewGuid(), Guid.NewGuid());
            var ids = new List<BlobId>();
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < count; i++)
            {
                var id = new BlobId((UInt128)(i + 1));
                store.Put(id, new PatternStream(blobBytes, i), blobBytes);
                ids.Add(id);
            }

            double writeSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            byte[] sink = new byte[1024 * 1024];
            foreach (BlobId id in ids)
            {
                using Stream blob = store.OpenRead(id);
                while (blob.Read(sink) > 0)
                {
                }
            }

            double readSeconds = clock.Elapsed.TotalSeconds;
            long total = count * blobBytes;
            Print(("blobs", count), ("blob_bytes", blobBytes), ("write_bytes_per_s", total / writeSeconds), ("read_bytes_per_s", total / readSeconds));
            break;
        }

    case "puts":
    case "fill":
        {
            long blobBytes = Arg(2);
            long count = Arg(3);
            using LibcBlockDevice dev = LibcBlockDevice.Open(device, requireDirectIo: true);
            var opening = Stopwatch.StartNew();
            using BlobStore store = args[0] == "puts" ? BlobStore.Format(dev, Guid.NewGuid(), Guid.NewGuid()) : BlobStore.Open(dev);
            double openSeconds = opening.Elapsed.TotalSeconds;
            byte[] content = new byte[blobBytes];
            Random.Shared.NextBytes(content);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < count; i++)
            {
                BitConverter.TryWriteBytes(content, i); // every blob differs
                store.Put(BlobId.NewRandom(), content);
            }

            double seconds = clock.Elapsed.TotalSeconds;
            Print(("puts", count), ("blob_bytes", blobBytes), ("puts_per_s", count / seconds), ("seconds", seconds), ("open_seconds", openSeconds), ("total_blobs", store.Stats().TotalObjects));
            break;
        }

    case "open":
        {
            using LibcBlockDevice dev = LibcBlockDevice.Open(device, requireDirectIo: true);
            var clock = Stopwatch.StartNew();
            using BlobStore store = BlobStore.Open(dev);
            double seconds = clock.Elapsed.TotalSeconds;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true); // as the node does
            Print(("open_seconds", seconds), ("total_blobs", store.Stats().TotalObjects), ("managed_heap_bytes", GC.GetTotalMemory(forceFullCollection: true)), ("rss_bytes", RssBytes()));
            break;
        }

    default:
        Console.Error.WriteLine($"unknown command {args[0]}");
        return 2;
}

return 0;

static long RssBytes()
{
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }

    return -1;
}

static void Print(params (string Name, double Value)[] fields) =>
    Console.WriteLine("{" + string.Join(", ", fields.Select(f => $"\"{f.Name}\": {f.Value.ToString("R", CultureInfo.InvariantCulture)}")) + "}");

/// <summary>LENGTH bytes of a repeating pattern, without holding a blob in memory.</summary>
internal sealed class PatternStream(long length, long seed) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    private static readonly byte[] s_pattern = CreatePattern();

    public override int Read(Span<byte> buffer)
    {
        int take = (int)Math.Min(Math.Min(buffer.Length, length - _position), 1 << 20);
        int start = (int)((_position + (seed * 4099)) % (1 << 20));
        s_pattern.AsSpan(start, take).CopyTo(buffer);
        _position += take;
        return take;
    }

    private static byte[] CreatePattern()
    {
        byte[] pattern = new byte[2 << 20];
        new Random(42).NextBytes(pattern);
        return pattern;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
