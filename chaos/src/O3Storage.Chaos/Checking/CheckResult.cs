using O3Storage.Chaos.History;

namespace O3Storage.Chaos.Checking;

public enum Verdict
{
    Linearizable,
    NotLinearizable,

    /// <summary>The search ran out of time before it found a linearization or exhausted every order.</summary>
    Unknown,
}

/// <summary>
/// The verdict on one key. When it is not linearizable: the longest order of operations the search found
/// that respects real time and the register (<see cref="LongestPrefix"/>), the state it leaves, and the
/// operations that could have come next by real time but none of which the register allows
/// (<see cref="Blocked"/>): where to start reading.
/// </summary>
public sealed record KeyVerdict(
    string Key,
    Verdict Verdict,
    int OperationCount,
    IReadOnlyList<Operation> LongestPrefix,
    string? StateAfterPrefix,
    IReadOnlyList<Operation> Blocked);

public sealed record CheckResult(Verdict Verdict, IReadOnlyList<KeyVerdict> Keys)
{
    /// <summary>A report a person reads first when a run fails: every key that is not linearizable, with where the search got stuck.</summary>
    public string Describe()
    {
        var text = new System.Text.StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"verdict: {Verdict} ({Keys.Count} keys, {Keys.Sum(k => k.OperationCount)} operations)\n");
        foreach (KeyVerdict key in Keys.Where(k => k.Verdict != Verdict.Linearizable))
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\nkey {key.Key}: {key.Verdict} ({key.OperationCount} operations)\n");
            if (key.Verdict == Verdict.Unknown)
            {
                text.Append("  the search ran out of time; rerun the check with a longer limit (o3-chaos check --limit)\n");
                continue;
            }

            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"  longest order found ({key.LongestPrefix.Count} operations):\n");
            foreach (Operation operation in key.LongestPrefix.TakeLast(12))
            {
                text.Append("    ").Append(operation).Append('\n');
            }

            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"  then the value is {key.StateAfterPrefix ?? "absent"}, and none of these can come next:\n");
            foreach (Operation operation in key.Blocked)
            {
                text.Append("    ").Append(operation).Append('\n');
            }
        }

        return text.ToString();
    }
}
