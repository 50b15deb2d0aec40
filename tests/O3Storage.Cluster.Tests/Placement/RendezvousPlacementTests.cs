using O3Storage.Cluster.Placement;

namespace O3Storage.Cluster.Tests.Placement;

public sealed class RendezvousPlacementTests
{
    private static readonly PlacementCandidate[] s_three =
    [
        new("192.168.1.101:8080", 1), new("192.168.1.102:8080", 1), new("192.168.1.103:8080", 1),
    ];

    private static IEnumerable<string> Keys(int count) => Enumerable.Range(0, count).Select(i => $"bucket/photos/{i:D6}.jpg");

    [Fact]
    public void Choice_IsDeterministic_Distinct_AndCappedAtTheMemberCount()
    {
        IReadOnlyList<string> first = RendezvousPlacement.Choose("b/k", s_three, 2);
        Assert.Equal(first, RendezvousPlacement.Choose("b/k", s_three.Reverse().ToList(), 2)); // member order does not matter
        Assert.Equal(2, first.Distinct().Count());
        Assert.Equal(3, RendezvousPlacement.Choose("b/k", s_three, 5).Count);
        Assert.Equal(first, RendezvousPlacement.Choose("b/k", s_three, 3).Take(2)); // a larger factor extends, never reorders
    }

    [Fact]
    public void PinnedExamples_KeepPlacementStableAcrossVersions()
    {
        // If these change, objects already stored would be looked for on the wrong nodes. The expected
        // orders come from an independent implementation (Python hashlib, the same formula).
        Assert.Equal(["192.168.1.102:8080", "192.168.1.101:8080", "192.168.1.103:8080"], RendezvousPlacement.Choose("bucket/a.txt", s_three, 3));
        Assert.Equal(["192.168.1.103:8080", "192.168.1.102:8080", "192.168.1.101:8080"], RendezvousPlacement.Choose("bucket/c.txt", s_three, 3));
        Assert.Equal(["192.168.1.103:8080", "192.168.1.101:8080", "192.168.1.102:8080"], RendezvousPlacement.Choose("bucket/e.txt", s_three, 3));
    }

    [Fact]
    public void FirstChoices_FollowTheWeights()
    {
        PlacementCandidate[] weighted = [new("a", 1), new("b", 1), new("c", 2)];
        var counts = Keys(40_000).GroupBy(k => RendezvousPlacement.Choose(k, weighted, 1)[0]).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(counts["a"] / 40_000.0, 0.23, 0.27);
        Assert.InRange(counts["b"] / 40_000.0, 0.23, 0.27);
        Assert.InRange(counts["c"] / 40_000.0, 0.48, 0.52);
    }

    [Fact]
    public void AddingAMember_MovesOnlyWhatItTakes_AndAboutItsShare()
    {
        PlacementCandidate[] four = [.. s_three, new("192.168.1.104:8080", 1)];
        int moved = 0;
        foreach (string key in Keys(20_000))
        {
            IReadOnlyList<string> before = RendezvousPlacement.Choose(key, s_three, 2);
            IReadOnlyList<string> after = RendezvousPlacement.Choose(key, four, 2);
            if (!after.ToHashSet().SetEquals(before))
            {
                moved++;
                Assert.Contains("192.168.1.104:8080", after); // only the new member takes replicas
                Assert.Single(after.Except(before));
            }
        }

        Assert.InRange(moved / 20_000.0, 0.45, 0.55); // it takes half the objects' second (or first) replica
    }

    [Fact]
    public void RemovingAMember_MovesOnlyItsReplicas()
    {
        PlacementCandidate[] two = s_three[..2];
        foreach (string key in Keys(5_000))
        {
            IReadOnlyList<string> before = RendezvousPlacement.Choose(key, s_three, 2);
            IReadOnlyList<string> after = RendezvousPlacement.Choose(key, two, 2);
            if (!before.Contains(s_three[2].NodeId))
            {
                Assert.Equal(before, after);
            }
        }
    }

    [Fact]
    public void MembersWithoutCapacity_HoldNothing() =>
        Assert.DoesNotContain("c", RendezvousPlacement.Choose("k", [new("a", 1), new("b", 1), new("c", 0)], 3));
}
