// Owns: what a run's nemesis does and when, made from the run's seed alone, so a failing run is replayed
// by its seed: faults one after another, each healed before the next, with quiet gaps between them.
// Assumes: node numbers 1..count; faults on processes (kill, pause, replace) take at most a minority at
// once, so a majority stays to make progress and the checker sees writes under every fault; a power cut
// takes every node (nothing progresses until they are back, and nothing acknowledged may be lost).
namespace O3Storage.Chaos.Nemesis;

public static class Schedule
{
    /// <summary>The faults of one run of <paramref name="durationMs"/> over <paramref name="count"/> nodes, drawn from <paramref name="kinds"/>.</summary>
    public static List<Fault> Make(int seed, int count, int durationMs, IReadOnlyList<FaultKind> kinds)
    {
        if (count < 3)
        {
            throw new ArgumentOutOfRangeException(nameof(count), "a chaos run needs at least 3 nodes");
        }

        if (kinds.Count == 0)
        {
            throw new ArgumentException("no fault kinds", nameof(kinds));
        }

        var random = new Random(seed);
        var faults = new List<Fault>();
        int at = random.Next(500, 1500);
        while (true)
        {
            int duration = random.Next(1000, 5000);
            if (at + duration > durationMs)
            {
                return faults;
            }

            FaultKind kind = kinds[random.Next(kinds.Count)];
            faults.Add(new Fault(kind, at, duration, Nodes(kind, count, random)));
            at += duration + random.Next(500, 2500);
        }
    }

    private static List<int> Nodes(FaultKind kind, int count, Random random)
    {
        List<int> shuffled = Enumerable.Range(1, count).OrderBy(_ => random.Next()).ToList();
        int minority = (count - 1) / 2;
        return kind switch
        {
            FaultKind.Isolate or FaultKind.Replace => [shuffled[0]],
            FaultKind.PowerCut => Enumerable.Range(1, count).ToList(),
            // One side of the split, 1..minority nodes (the other side is the rest).
            FaultKind.Partition => shuffled.Take(random.Next(1, minority + 1)).OrderBy(n => n).ToList(),
            // The bridge, then one half of the others.
            FaultKind.Bridge => [shuffled[0], .. shuffled.Skip(1).Take((count - 1) / 2).OrderBy(n => n)],
            _ => shuffled.Take(random.Next(1, minority + 1)).OrderBy(n => n).ToList(),
        };
    }

    /// <summary>For a partition-like fault: which nodes each node may not hear from while it lasts.</summary>
    public static Dictionary<int, List<int>> Blocked(Fault fault, int count)
    {
        var all = Enumerable.Range(1, count).ToList();
        var blocked = all.ToDictionary(n => n, _ => new List<int>());
        void Cut(IEnumerable<int> left, IEnumerable<int> right)
        {
            foreach (int a in left)
            {
                foreach (int b in right)
                {
                    blocked[a].Add(b);
                    blocked[b].Add(a);
                }
            }
        }

        switch (fault.Kind)
        {
            case FaultKind.Partition:
            case FaultKind.Isolate:
                Cut(fault.Nodes, all.Except(fault.Nodes).ToList());
                break;
            case FaultKind.Bridge:
                int bridge = fault.Nodes[0];
                List<int> half = fault.Nodes.Skip(1).ToList();
                Cut(half, all.Except(half).Where(n => n != bridge).ToList());
                break;
            default:
                throw new ArgumentException($"{fault.Kind} is not a network fault", nameof(fault));
        }

        return blocked;
    }
}
