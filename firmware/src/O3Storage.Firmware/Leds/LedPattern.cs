// Owns: what one LED pattern is, and the shape every pattern must have.
// Assumes: nothing about the LED; drivers map "on" to full brightness, a GPIO level or the color.
// Faults: a pattern of another shape is a programmer error and is refused at construction.
// Why the shape is restricted: the Raspberry Pi firmware signals boot failures on the same ACT LED
// by groups of flashes (N flashes, or N long then M short, repeated after a pause). A pattern with
// at most one on-phase and one off-phase per period (steady, or a square wave) can never be read as
// such a code, and it is exactly what the kernel's "timer" trigger runs by itself.
namespace O3Storage.Firmware.Leds;

/// <summary>
/// A repeating LED pattern: one step (steady on or off) or two steps of opposite state (a square
/// wave with a duty cycle). <see cref="Color"/> is what an addressable LED shows in the on-phase.
/// </summary>
public sealed record LedPattern
{
    public LedPattern(string name, LedColor color, IReadOnlyList<LedStep> steps)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count is < 1 or > 2)
        {
            throw new ArgumentException($"pattern '{name}' has {steps.Count} steps; a pattern is steady (1 step) or one on-phase and one off-phase (2 steps)", nameof(steps));
        }

        if (steps.Count == 2 && steps[0].On == steps[1].On)
        {
            throw new ArgumentException($"pattern '{name}' repeats the same state; its two steps must be one on-phase and one off-phase", nameof(steps));
        }

        foreach (LedStep step in steps)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(step.DurationMs, 1, nameof(steps));
        }

        Name = name;
        Color = color;
        Steps = [.. steps];
    }

    /// <summary>Short lowercase name shown by /health, e.g. "leader".</summary>
    public string Name { get; }

    public LedColor Color { get; }

    /// <summary>The steps of one period, repeated forever, starting with the first.</summary>
    public IReadOnlyList<LedStep> Steps { get; }

    /// <summary>One step: the LED stays on or off; its duration is irrelevant.</summary>
    public bool IsSteady => Steps.Count == 1;

    public int PeriodMs => Steps.Sum(s => s.DurationMs);

    /// <summary>How long the LED is on in one period (0 for steady off).</summary>
    public int OnMs => Steps.Where(s => s.On).Sum(s => s.DurationMs);

    /// <summary>How long the LED is off in one period (0 for steady on).</summary>
    public int OffMs => Steps.Where(s => !s.On).Sum(s => s.DurationMs);

    public bool Equals(LedPattern? other) =>
        other is not null && Name == other.Name && Color == other.Color && Steps.SequenceEqual(other.Steps);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Name);
        hash.Add(Color);
        foreach (LedStep step in Steps)
        {
            hash.Add(step);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => $"{Name} {Color} [{string.Join(", ", Steps)}]";
}
