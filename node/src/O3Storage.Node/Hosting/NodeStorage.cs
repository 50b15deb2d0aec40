// Owns: this node's blob device and store for the life of the process: creating DIR/blobs.dev on
// first start, formatting only a blank device (never one that holds something else), and refusing a
// store formatted for another node.
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using O3Storage.Cluster.Health;
using O3Storage.Node.CommandLine;
using O3Storage.Node.Data;
using O3Storage.Node.Diagnostics;
using O3Storage.Storage;
using O3Storage.Storage.Devices;

namespace O3Storage.Node.Hosting;

internal sealed class NodeStorage : IDisposable
{
    private const int BlankProbeBytes = 8192;
    private readonly LibcBlockDevice _device;

    private NodeStorage(LibcBlockDevice device, BlobStore store, NodeMetrics metrics, string nodeId, ILogger logger)
    {
        _device = device;
        Store = store;
        Writer = new StoreWriter(store, metrics);
        Inline = new InlineBlobs(nodeId, Writer, logger);
    }

    public BlobStore Store { get; }

    /// <summary>Every write to <see cref="Store"/> goes through here, on its own thread.</summary>
    public StoreWriter Writer { get; }

    /// <summary>Small objects that arrive in Raft entries, on their way into <see cref="Store"/>.</summary>
    public InlineBlobs Inline { get; }

    public static NodeStorage Open(NodeOptions options, DataDirectory data, NodeIdentity identity, ILogger logger, NodeMetrics metrics)
    {
        string path = options.DevicePath ?? data.DefaultDevicePath;
        var opening = Stopwatch.StartNew();
        try
        {
            bool create = options.DevicePath is null && !File.Exists(path);
            if (create)
            {
                LibcBlockDevice.CreateFile(path, options.DeviceSizeBytes);
            }

            LibcBlockDevice device = LibcBlockDevice.Open(path, options.RequireDirectIo);
            try
            {
                if (!device.DirectIo)
                {
                    NodeLog.BufferedIo(logger, path);
                }

                BlobStore store = create || IsBlank(device)
                    ? BlobStore.Format(device, identity.Uuid, Guid.Empty)
                    : BlobStore.Open(device);
                if (store.NodeUuid != identity.Uuid)
                {
                    store.Dispose();
                    throw new StartupException($"--device {path} holds the store of node {store.NodeUuid}, not of this node ({identity.Uuid}); use this node's device or a blank one");
                }

                // Recovery's transient maps and lists are garbage now: hand that memory back before serving.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                StorageStats stats = store.Stats();
                NodeLog.StorageOpened(logger, path, stats.TotalObjects, stats.UsedSpaceBytes, stats.CapacityBytes, opening.ElapsedMilliseconds);
                if (stats.DamagedRecords > 0)
                {
                    NodeLog.StorageDamaged(logger, path, stats.DamagedRecords);
                }

                return new NodeStorage(device, store, metrics, options.NodeId, logger);
            }
            catch
            {
                device.Dispose();
                throw;
            }
        }
        catch (StorageException e)
        {
            throw new StartupException($"--device {path}: {e.Message}");
        }
    }

    /// <summary>Online compaction until <paramref name="token"/> ends; completes at once when the rate is 0.</summary>
    /// <param name="workFactor">The share of <paramref name="bytesPerSecond"/> to use now (1.0; less on a hot board).</param>
    public Task CompactInBackgroundAsync(long bytesPerSecond, Func<double> workFactor, ILogger logger, CancellationToken token)
    {
        if (bytesPerSecond <= 0)
        {
            return Task.CompletedTask;
        }

        var compactor = new BackgroundCompactor(Store, bytesPerSecond)
        {
            WorkFactor = workFactor,
            Progress = step =>
            {
                if (step.SegmentFreed)
                {
                    NodeLog.SegmentCompacted(logger, step.BytesCopied);
                }
            },
            Failed = e => NodeLog.CompactionFailed(logger, e),
        };
        return compactor.RunAsync(token);
    }

    /// <summary>What the background scrub (ScrubLoop) has done.</summary>
    public ScrubProgress Scrub { get; } = new();

    public StorageHealth Health()
    {
        StorageStats stats = Store.Stats();
        return new StorageHealth(stats.TotalObjects, stats.UsedSpaceBytes, stats.CapacityBytes, stats.FreeSpaceBytes, stats.Device, stats.DirectIo) { Scrub = Scrub.Snapshot() };
    }

    public void Dispose()
    {
        Writer.Dispose();
        Store.Dispose();
        _device.Dispose();
    }

    private static bool IsBlank(LibcBlockDevice device)
    {
        using var probe = new AlignedBuffer(BlankProbeBytes);
        device.Read(0, probe.Span);
        return !probe.Span.ContainsAnyExcept((byte)0);
    }
}
