using Microsoft.Extensions.Time.Testing;
using O3Storage.Firmware.Leds;

namespace O3Storage.Firmware.Tests;

/// <summary>An LED that writes down every call with the fake time it happened at, e.g. "1900 off".</summary>
internal sealed class RecordingLedDriver(FakeTimeProvider time, bool runsPatterns) : ILedDriver
{
    private readonly DateTimeOffset _start = time.GetUtcNow();

    public List<string> Calls { get; } = [];

    /// <summary>When set, SetPhase and Run throw it (an unplugged LED).</summary>
    public string? FailWith { get; set; }

    public string Name => "recording";

    public bool CanRun(LedPattern pattern) => runsPatterns;

    public void Run(LedPattern pattern)
    {
        Fail();
        Calls.Add($"{Now} run {pattern.Name}");
    }

    public void SetPhase(bool on, LedColor color)
    {
        Fail();
        Calls.Add(on ? $"{Now} on {color}" : $"{Now} off");
    }

    public void Dispose() => Calls.Add($"{Now} dispose");

    private long Now => (long)(time.GetUtcNow() - _start).TotalMilliseconds;

    private void Fail()
    {
        if (FailWith is not null)
        {
            throw new LedDriverException(FailWith);
        }
    }
}
