using O3Storage.Storage.Devices;
using static O3Storage.Storage.Tests.StoreFixtures;

namespace O3Storage.Storage.Tests;

/// <summary>The node's online compaction loop, with its waits recorded instead of slept.</summary>
public sealed class BackgroundCompactorTests
{
    private const long Rate = 64 * 1024; // bytes per second: small, so every step is paced

    private sealed class FlakyDevice(byte[] content) : MemoryBlockDevice(content)
    {
        public int FailWrites { get; set; }

        public override void Write(long offsetBytes, ReadOnlySpan<byte> source)
        {
            if (FailWrites > 0)
            {
                FailWrites--;
                throw new DeviceException("injected write error");
            }

            base.Write(offsetBytes, source);
        }
    }

    private static Dictionary<BlobId, byte[]> MostlyDeleted(BlobStore store)
    {
        var random = new Random(3);
        var live = new Dictionary<BlobId, byte[]>();
        for (int i = 0; i < 32; i++)
        {
            byte[] data = Bytes(random, 10_000);
            store.Put(Id(i), data);
            if (i % 4 == 0)
            {
                live[Id(i)] = data;
            }
        }

        foreach (int i in Enumerable.Range(0, 32).Where(i => i % 4 != 0))
        {
            store.Delete(Id(i));
        }

        return live;
    }

    [Fact]
    public async Task Run_CompactsUntilIdle_PacingEveryStepToTheRate()
    {
        var device = new MemoryBlockDevice(DeviceBytes(12));
        using BlobStore store = FormatSmall(device);
        Dictionary<BlobId, byte[]> live = MostlyDeleted(store);
        long freeBefore = store.Stats().FreeSpaceBytes;

        var waits = new List<TimeSpan>();
        var steps = new List<CompactionProgress>();
        using var stop = new CancellationTokenSource();
        var compactor = new BackgroundCompactor(store, Rate, (wait, _) =>
        {
            waits.Add(wait);
            if (wait == TimeSpan.FromHours(1) || waits.Count > 500)
            {
                stop.Cancel(); // idle: the work is done
            }

            return Task.CompletedTask;
        })
        {
            IdleInterval = TimeSpan.FromHours(1),
            Progress = steps.Add,
        };

        await compactor.RunAsync(stop.Token);

        Assert.Equal(TimeSpan.FromHours(1), waits[^1]);
        Assert.True(steps.Count(s => s.SegmentFreed) >= 5, $"{steps.Count} steps freed {steps.Count(s => s.SegmentFreed)} segments");
        Assert.All(steps, s => Assert.True(s.BytesCopied <= compactor.StepBytes + (12 * 1024)));
        Assert.Equal(steps.Select(s => compactor.PaceFor(s.BytesCopied)), waits.Take(steps.Count));
        Assert.True(steps.Sum(s => s.BytesCopied) > 0);
        Assert.Equal(freeBefore, store.Stats().FreeSpaceBytes); // free space counts garbage as free already
        foreach ((BlobId id, byte[] data) in live)
        {
            Assert.Equal(data, store.ReadAll(id));
        }
    }

    [Fact]
    public async Task Run_AWriteErrorIsReported_AndTheLoopGoesOn()
    {
        var device = new FlakyDevice(new byte[DeviceBytes(12)]);
        using BlobStore store = FormatSmall(device);
        Dictionary<BlobId, byte[]> live = MostlyDeleted(store);
        device.FailWrites = 1;

        var errors = new List<Exception>();
        int freed = 0;
        int waits = 0;
        using var stop = new CancellationTokenSource();
        var compactor = new BackgroundCompactor(store, Rate, (wait, _) =>
        {
            if (++waits > 500 || (wait == TimeSpan.FromHours(1) && errors.Count > 0 && freed > 0))
            {
                stop.Cancel();
            }

            return Task.CompletedTask;
        })
        {
            IdleInterval = TimeSpan.FromHours(1),
            Progress = s => freed += s.SegmentFreed ? 1 : 0,
            Failed = errors.Add,
        };

        await compactor.RunAsync(stop.Token);

        Assert.IsType<DeviceException>(Assert.Single(errors));
        Assert.True(freed > 0);
        foreach ((BlobId id, byte[] data) in live)
        {
            Assert.Equal(data, store.ReadAll(id));
        }

        store.Dispose();
        using BlobStore reopened = BlobStore.Open(device);
        Assert.Equal(live.Keys.Order(), reopened.List().Select(b => b.Id).Order());
    }

    [Fact]
    public void Rate_MustBePositive() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BackgroundCompactor(BlobStore.Format(new MemoryBlockDevice(DeviceBytes(3)), Guid.NewGuid(), Guid.NewGuid(), Small), 0));

    [Fact]
    public void AHotBoard_StretchesThePace_ByTheWorkFactor_NeverToZero()
    {
        using BlobStore store = FormatSmall(new MemoryBlockDevice(DeviceBytes(3)));
        double factor = 1.0;
        var compactor = new BackgroundCompactor(store, Rate) { WorkFactor = () => factor };
        Assert.Equal(TimeSpan.FromSeconds(1), compactor.PaceFor(Rate));
        factor = 0.25;
        Assert.Equal(TimeSpan.FromSeconds(4), compactor.PaceFor(Rate));
        factor = 0;
        Assert.Equal(TimeSpan.FromSeconds(100), compactor.PaceFor(Rate));
    }
}
