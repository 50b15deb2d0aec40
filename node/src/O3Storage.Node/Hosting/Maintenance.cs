// Owns: `o3storage check` (verify every blob) and `o3storage compact` (reclaim deleted space) on a
// stopped node's store. The device lock makes running them against a live node fail fast.
using O3Storage.Node.CommandLine;
using O3Storage.Storage;
using O3Storage.Storage.Devices;

namespace O3Storage.Node.Hosting;

internal static class Maintenance
{
    public static int Run(ParseResult.Maintain request, TextWriter output)
    {
        string path = request.DevicePath ?? Path.Combine(request.DataDirectory, "blobs.dev");
        if (!File.Exists(path) && request.DevicePath is null)
        {
            throw new StartupException($"--data {request.DataDirectory} has no blobs.dev: not a node data directory, or the node never started");
        }

        try
        {
            using LibcBlockDevice device = LibcBlockDevice.Open(path, requireDirectIo: false);
            using BlobStore store = BlobStore.Open(device);
            StorageStats before = store.Stats();
            if (request.Command == "compact")
            {
                int reclaimed = store.Compact(all: true);
                StorageStats after = store.Stats();
                output.WriteLine($"compact {path}: {reclaimed} segments reclaimed; {after.TotalObjects} blobs, {after.UsedSpaceBytes} bytes used, {after.FreeSpaceBytes} bytes free (was {before.FreeSpaceBytes})");
                return 0;
            }

            IReadOnlyList<(BlobId Id, string Problem)> problems = store.Verify();
            foreach ((BlobId id, string problem) in problems)
            {
                output.WriteLine($"damaged blob {id}: {problem}");
            }

            output.WriteLine($"check {path}: {before.TotalObjects} blobs, {before.UsedSpaceBytes} bytes, {problems.Count} with bad checksums, {store.DamagedRecords} damaged records skipped at recovery");
            return problems.Count == 0 && store.DamagedRecords == 0 ? 0 : 1;
        }
        catch (StorageException e)
        {
            throw new StartupException($"{request.Command} {path}: {e.Message}");
        }
    }
}
