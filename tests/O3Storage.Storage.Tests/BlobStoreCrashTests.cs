using O3Storage.Storage.Devices;
using Xunit.Abstractions;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>
/// Power cut at every write: a recording device replays each prefix of the writes a workload made,
/// with the write at the cut torn at sector granularity (and with a garbage sector), then recovers.
/// Every acknowledged blob must be intact, nothing may read back corrupt, and recovery never throws.
/// </summary>
public sealed class BlobStoreCrashTests(ITestOutputHelper output)
{
    private const int SectorBytes = 512;

    private enum Kind
    {
        Put,
        Delete,
        /// <summary>Writes that change no blob: a background compaction step, or compaction done by a put that then found the store full.</summary>
        Noop,
    }

    private sealed record Operation(Kind Kind, BlobId Id, byte[]? Data, int FirstWrite, int EndWrite);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryWritePrefix_WithTornSectors_RecoversAcknowledgedBlobsAndNeverReadsCorrupt(int seed)
    {
        var random = new Random(seed);
        var formatted = new MemoryBlockDevice(DeviceBytes(6));
        FormatSmall(formatted).Dispose();
        byte[] baseImage = formatted.Content;

        var recording = new RecordingBlockDevice((byte[])baseImage.Clone());
        var operations = new List<Operation>();
        var live = new List<BlobId>();
        using (BlobStore store = BlobStore.Open(recording, Small))
        {
            for (int i = 0; i < 90; i++)
            {
                int first = recording.Writes.Count;
                if (random.Next(6) == 0)
                {
                    store.CompactStep(random.Next(1, 20_000));
                    operations.Add(new Operation(Kind.Noop, default, null, first, recording.Writes.Count));
                    continue;
                }

                if (live.Count > 0 && random.Next(4) == 0)
                {
                    BlobId victim = live[random.Next(live.Count)];
                    store.Delete(victim);
                    live.Remove(victim);
                    operations.Add(new Operation(Kind.Delete, victim, null, first, recording.Writes.Count));
                    continue;
                }

                BlobId id = Id(random.Next(1, 12));
                // Small records go to the device in one write, larger ones (over one 16 KiB chunk) header last: both are cut.
                byte[] data = Bytes(random, random.Next(4) == 0 ? random.Next(20_000, 40_000) : random.Next(0, 9000));
                try
                {
                    store.Put(id, data);
                }
                catch (StorageFullException)
                {
                    operations.Add(new Operation(Kind.Noop, id, null, first, recording.Writes.Count));
                    continue;
                }

                if (!live.Contains(id))
                {
                    live.Add(id);
                }

                operations.Add(new Operation(Kind.Put, id, data, first, recording.Writes.Count));
            }
        }

        int cases = 0;
        for (int cut = 0; cut <= recording.Writes.Count; cut++)
        {
            foreach ((int tornSectors, bool garbage) in TornVariants(cut, recording))
            {
                cases++;
                byte[] image = (byte[])baseImage.Clone();
                for (int w = 0; w < cut; w++)
                {
                    recording.Writes[w].Data.CopyTo(image, recording.Writes[w].Offset);
                }

                if (tornSectors > 0 || garbage)
                {
                    (long offset, byte[] data) = recording.Writes[cut];
                    Array.Copy(data, 0, image, offset, tornSectors * SectorBytes);
                    if (garbage)
                    {
                        random.NextBytes(image.AsSpan((int)offset + (tornSectors * SectorBytes), SectorBytes));
                    }
                }

                try
                {
                    Verify(image, operations, cut, partial: tornSectors > 0 || garbage);
                }
                catch
                {
                    output.WriteLine($"seed {seed}: cut before write {cut} of {recording.Writes.Count}, torn sectors {tornSectors}, garbage {garbage}");
                    throw;
                }
            }
        }

        output.WriteLine($"seed {seed}: {recording.Writes.Count} writes, {operations.Count} operations, {cases} crash images recovered");
        // The workload must reach compaction, or this test would not cover crashes during it.
        Assert.Contains(recording.Writes, w => w.Data.Length == Small.SegmentSizeBytes);
    }

    private static IEnumerable<(int TornSectors, bool Garbage)> TornVariants(int cut, RecordingBlockDevice recording)
    {
        yield return (0, false);
        if (cut == recording.Writes.Count)
        {
            yield break;
        }

        int sectors = recording.Writes[cut].Data.Length / SectorBytes;
        foreach (int torn in new[] { 1, sectors / 2, sectors - 1 }.Where(t => t > 0 && t < sectors).Distinct())
        {
            yield return (torn, false);
        }

        yield return (sectors / 2, true);
    }

    private static void Verify(byte[] image, List<Operation> operations, int cut, bool partial)
    {
        var expected = new Dictionary<BlobId, byte[]>();
        Operation? inFlight = null;
        foreach (Operation operation in operations)
        {
            if (operation.EndWrite <= cut)
            {
                if (operation.Kind == Kind.Put)
                {
                    expected[operation.Id] = operation.Data!;
                }
                else if (operation.Kind == Kind.Delete)
                {
                    expected.Remove(operation.Id);
                }
            }
            else if (operation.FirstWrite < cut || (operation.FirstWrite == cut && partial))
            {
                inFlight = operation; // some of its writes reached the device: either outcome is allowed
            }
        }

        using BlobStore store = BlobStore.Open(new MemoryBlockDevice(image));
        var found = store.List().Select(b => b.Id).ToHashSet();
        foreach (BlobId id in found.Union(expected.Keys))
        {
            bool present = found.Contains(id);
            byte[]? actual = present ? store.ReadAll(id) : null; // a checksum mismatch here fails the test
            bool matchesOld = expected.TryGetValue(id, out byte[]? old) ? present && actual!.AsSpan().SequenceEqual(old) : !present;
            bool matchesNew = inFlight is not null && inFlight.Kind != Kind.Noop && inFlight.Id == id
                && (inFlight.Kind == Kind.Put ? present && actual!.AsSpan().SequenceEqual(inFlight.Data) : !present);
            Assert.True(matchesOld || matchesNew, $"blob {id}: present {present}, length {actual?.Length}, expected length {old?.Length}");
        }
    }
}
