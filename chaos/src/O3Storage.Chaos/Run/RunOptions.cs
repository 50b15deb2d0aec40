using O3Storage.Chaos.Nemesis;

namespace O3Storage.Chaos.Run;

/// <param name="Binary">The o3storage node binary.</param>
/// <param name="OutputDirectory">Each run writes seed-N/ here: its history, schedule, report and (when it fails) the node logs.</param>
public sealed record RunOptions(
    int Seed,
    int Runs,
    int Nodes,
    int Clients,
    int Keys,
    TimeSpan Duration,
    IReadOnlyList<FaultKind> Faults,
    string Binary,
    string OutputDirectory)
{
    public static readonly IReadOnlyList<FaultKind> AllFaults = Enum.GetValues<FaultKind>();

    /// <summary>The cluster's consistency_level: "strong" (the default, and what the promise is about) or "eventual" (reads skip the read barrier: the checker must catch its stale reads).</summary>
    public string Consistency { get; init; } = "strong";

    /// <summary>False for a control run: every run must find an anomaly (with --consistency eventual, to show the checker catches what it should).</summary>
    public bool ExpectLinearizable { get; init; } = true;

    /// <summary>The power-cut file system (chaos/powercut-fs): each node's data directory is one when the faults include power cuts.</summary>
    public string PowerCutFs { get; init; } = "artifacts/powercut-fs/powercut-fs";

    public bool CutsPower => Faults.Contains(FaultKind.PowerCut);

    /// <summary>The longest a check may search before its verdict is "unknown".</summary>
    public TimeSpan CheckLimit { get; init; } = TimeSpan.FromSeconds(60);
}
