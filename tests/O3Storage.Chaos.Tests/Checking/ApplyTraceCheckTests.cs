using O3Storage.Chaos.Checking;

namespace O3Storage.Chaos.Tests.Checking;

public sealed class ApplyTraceCheckTests
{
    [Fact]
    public void NodesThatAppliedTheSameEntries_AgreeEvenWithGapsRestartsAndSnapshots()
    {
        (int, IEnumerable<string>)[] traces =
        [
            (1, ["apply 1 1 -", "apply 2 1 00112233445566aa", "apply 3 1 00112233445566bb"]),
            // restarted: loads a snapshot at 2 and applies 3 again, the same entry
            (2, ["apply 1 1 -", "snapshot 2", "apply 3 1 00112233445566bb", "apply 4 2 00112233445566cc"]),
            // joined late from a snapshot; its last line was torn by a power cut
            (3, ["snapshot 3", "apply 4 2 00112233445566cc", "apply 5 2 0011"]),
        ];
        (int indices, var conflicts) = ApplyTraceCheck.Check(traces);
        Assert.Equal(4, indices);
        Assert.Empty(conflicts);
    }

    [Fact]
    public void TwoNodesThatAppliedDifferentEntriesAtOneIndex_Diverged()
    {
        // What a deposed leader that applied an entry the new leader never had would leave.
        (int, IEnumerable<string>)[] traces =
        [
            (1, ["apply 7 1 00112233445566aa", "apply 8 1 c4c4c4c4c4c4c4c4", "apply 9 2 00112233445566dd"]),
            (2, ["apply 7 1 00112233445566aa", "apply 8 2 0000000000000000", "apply 9 2 00112233445566dd"]),
        ];
        (_, var conflicts) = ApplyTraceCheck.Check(traces);
        var (first, other) = Assert.Single(conflicts);
        Assert.Equal((8, 1, 8, 2), (first.Index, first.Node, other.Index, other.Node));
        Assert.Contains("c4c4c4c4c4c4c4c4", first.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void OneNodeThatAppliedAnIndexDifferentlyAfterARestart_Diverged()
    {
        (_, var conflicts) = ApplyTraceCheck.Check([(1, ["apply 3 1 00112233445566aa", "apply 3 2 00112233445566bb"])]);
        Assert.Single(conflicts);
    }
}
