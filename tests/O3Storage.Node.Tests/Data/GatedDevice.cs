using O3Storage.Storage.Devices;

namespace O3Storage.Node.Tests.Data;

/// <summary>A device that is busy (its writes wait at a gate) until the test says: writes queue up behind it.</summary>
internal sealed class GatedDevice(long bytes) : MemoryBlockDevice(bytes)
{
    public int Writes;

    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    public override void Write(long offsetBytes, ReadOnlySpan<byte> source)
    {
        Interlocked.Increment(ref Writes);
        Assert.True(Gate.Wait(TimeSpan.FromSeconds(30)), "the test never opened the device's gate");
        base.Write(offsetBytes, source);
    }
}
