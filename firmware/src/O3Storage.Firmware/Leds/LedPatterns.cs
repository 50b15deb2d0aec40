// Owns: the table from node status to LED pattern (documented in firmware/README.md).
// Assumes: an operator tells statuses apart by rhythm on a single-color LED and by color on an
// addressable one, so every status has its own rhythm; colors only add to it.
// Faults: none; every status has a pattern (an unknown value is a programmer error).
using O3Storage.Firmware.Status;

namespace O3Storage.Firmware.Leds;

public static class LedPatterns
{
    private static LedPattern Steady(string name, LedColor color) => new(name, color, [new LedStep(true, 1000)]);

    private static LedPattern Wave(string name, LedColor color, int onMs, int offMs) =>
        new(name, color, [new LedStep(true, onMs), new LedStep(false, offMs)]);

    /// <summary>Steady on, white: the process runs but has not looked for its cluster yet.</summary>
    public static LedPattern Booting { get; } = Steady("booting", LedColor.White);

    /// <summary>1 Hz even blink (500 ms on, 500 ms off), cyan.</summary>
    public static LedPattern Discovering { get; } = Wave("discovering", LedColor.Cyan, 500, 500);

    /// <summary>4 Hz even blink (125 ms on, 125 ms off), cyan.</summary>
    public static LedPattern Joining { get; } = Wave("joining", LedColor.Cyan, 125, 125);

    /// <summary>On, with a 100 ms dip every 2 s, green.</summary>
    public static LedPattern FollowerHealthy { get; } = Wave("follower", LedColor.Green, 1900, 100);

    /// <summary>On, with a 100 ms dip every 1 s, blue.</summary>
    public static LedPattern Leader { get; } = Wave("leader", LedColor.Blue, 900, 100);

    /// <summary>0.5 Hz even blink (1 s on, 1 s off), yellow.</summary>
    public static LedPattern Degraded { get; } = Wave("degraded", LedColor.Yellow, 1000, 1000);

    /// <summary>Off, with a 100 ms blip every 2 s, purple.</summary>
    public static LedPattern Maintenance { get; } = Wave("maintenance", LedColor.Purple, 100, 1900);

    /// <summary>10 Hz flicker (50 ms on, 50 ms off), red; continuous, never in groups.</summary>
    public static LedPattern Fault { get; } = Wave("fault", LedColor.Red, 50, 50);

    /// <summary>Steady off, black: what a driver shows before the first status and what "off" means.</summary>
    public static LedPattern Off { get; } = new("off", LedColor.Black, [new LedStep(false, 1000)]);

    public static LedPattern For(NodeStatus status) => status switch
    {
        NodeStatus.Booting => Booting,
        NodeStatus.Discovering => Discovering,
        NodeStatus.Joining => Joining,
        NodeStatus.FollowerHealthy => FollowerHealthy,
        NodeStatus.Leader => Leader,
        NodeStatus.Degraded => Degraded,
        NodeStatus.Maintenance => Maintenance,
        NodeStatus.Fault => Fault,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "no LED pattern for this status"),
    };
}
