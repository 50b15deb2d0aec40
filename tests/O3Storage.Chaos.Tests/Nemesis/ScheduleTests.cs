using O3Storage.Chaos.Nemesis;
using O3Storage.Chaos.Run;

namespace O3Storage.Chaos.Tests.Nemesis;

public sealed class ScheduleTests
{
    [Fact]
    public void SameSeed_SameSchedule_OtherSeed_Another()
    {
        List<Fault> one = Schedule.Make(42, 5, 60_000, RunOptions.AllFaults);
        Assert.Equal(one.Select(f => f.ToString()), Schedule.Make(42, 5, 60_000, RunOptions.AllFaults).Select(f => f.ToString()));
        Assert.NotEqual(one.Select(f => f.ToString()), Schedule.Make(43, 5, 60_000, RunOptions.AllFaults).Select(f => f.ToString()));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void Faults_FollowOneAnother_InsideTheRun_AndNeverTakeAMajorityOfProcesses(int nodes)
    {
        for (int seed = 0; seed < 200; seed++)
        {
            List<Fault> faults = Schedule.Make(seed, nodes, 30_000, RunOptions.AllFaults);
            Assert.NotEmpty(faults);
            for (int i = 0; i < faults.Count; i++)
            {
                Fault fault = faults[i];
                Assert.True(fault.EndMs <= 30_000);
                if (i > 0)
                {
                    Assert.True(faults[i - 1].EndMs < fault.StartMs, $"seed {seed}: {faults[i - 1]} overlaps {fault}");
                }
                Assert.All(fault.Nodes, n => Assert.InRange(n, 1, nodes));
                Assert.Equal(fault.Nodes.Count, fault.Nodes.Distinct().Count());
                if (fault.Kind is FaultKind.Kill or FaultKind.Pause or FaultKind.Partition or FaultKind.Replace)
                {
                    Assert.InRange(fault.Nodes.Count, 1, (nodes - 1) / 2);
                }

                if (fault.Kind is FaultKind.Replace or FaultKind.Isolate)
                {
                    Assert.Single(fault.Nodes);
                }

                if (fault.Kind is FaultKind.PowerCut)
                {
                    Assert.Equal(Enumerable.Range(1, nodes), fault.Nodes); // the whole cluster loses power
                }
            }
        }
    }

    [Fact]
    public void EveryKind_Turns_Up()
    {
        var kinds = Enumerable.Range(0, 50).SelectMany(seed => Schedule.Make(seed, 3, 30_000, RunOptions.AllFaults)).Select(f => f.Kind).ToHashSet();
        Assert.Equal(RunOptions.AllFaults.ToHashSet(), kinds);
    }

    [Fact]
    public void OnlyTheKindsAskedFor()
    {
        Assert.All(Schedule.Make(9, 3, 60_000, [FaultKind.Isolate]), f => Assert.Equal(FaultKind.Isolate, f.Kind));
    }

    [Fact]
    public void Partition_CutsBothWays_BetweenTheSides_Only()
    {
        var fault = new Fault(FaultKind.Partition, 0, 1000, [2, 4]);
        Dictionary<int, List<int>> blocked = Schedule.Blocked(fault, 5);
        Assert.Equal([1, 3, 5], blocked[2].Order());
        Assert.Equal([1, 3, 5], blocked[4].Order());
        Assert.Equal([2, 4], blocked[1].Order());
        Assert.Equal([2, 4], blocked[5].Order());
    }

    [Fact]
    public void Bridge_ReachesBothHalves_WhichCannotReachEachOther()
    {
        // Node 3 bridges {1, 2} and {4, 5}.
        var fault = new Fault(FaultKind.Bridge, 0, 1000, [3, 1, 2]);
        Dictionary<int, List<int>> blocked = Schedule.Blocked(fault, 5);
        Assert.Empty(blocked[3]);
        Assert.Equal([4, 5], blocked[1].Order());
        Assert.Equal([1, 2], blocked[4].Order());
    }

    [Fact]
    public void Isolate_CutsOneNodeFromAllOthers()
    {
        Dictionary<int, List<int>> blocked = Schedule.Blocked(new Fault(FaultKind.Isolate, 0, 1000, [1]), 3);
        Assert.Equal([2, 3], blocked[1].Order());
        Assert.Equal([1], blocked[2]);
        Assert.Equal([1], blocked[3]);
    }

    [Fact]
    public void ProcessFaults_AreNotNetworkFaults() =>
        Assert.Throws<ArgumentException>(() => Schedule.Blocked(new Fault(FaultKind.Kill, 0, 1000, [1]), 3));
}
