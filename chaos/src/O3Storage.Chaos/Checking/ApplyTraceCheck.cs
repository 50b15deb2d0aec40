// Owns: Raft's state machine safety, checked on what the nodes themselves recorded: every node writes one
// line per log entry it applies ("apply INDEX TERM DIGEST", O3STORAGE_APPLY_TRACE), and no two lines for
// the same index, from any node or any restart of one, may differ. A client history can miss a divergence
// (a later write hides it); the trace cannot.
// Assumes: the lines were written by O3Storage.Cluster.Raft.ApplyTrace; other lines ("snapshot N") and a
// torn last line are skipped.
using System.Globalization;

namespace O3Storage.Chaos.Checking;

internal static class ApplyTraceCheck
{
    /// <summary>One applied entry as one node recorded it.</summary>
    internal readonly record struct Applied(int Node, long Index, long Term, string Digest)
    {
        public override string ToString() => $"node {Node} applied index {Index} as term {Term} entry {Digest}";
    }

    /// <summary>How many entries were compared and the first disagreements (at most <paramref name="limit"/>).</summary>
    public static (int Indices, IReadOnlyList<(Applied First, Applied Other)> Conflicts) Check(IEnumerable<(int Node, IEnumerable<string> Lines)> traces, int limit = 5)
    {
        var seen = new Dictionary<long, Applied>();
        var conflicts = new List<(Applied, Applied)>();
        foreach ((int node, IEnumerable<string> lines) in traces)
        {
            foreach (string line in lines)
            {
                if (Parse(node, line) is not { } applied)
                {
                    continue;
                }

                if (!seen.TryGetValue(applied.Index, out Applied first))
                {
                    seen.Add(applied.Index, applied);
                }
                else if ((first.Term, first.Digest) != (applied.Term, applied.Digest) && conflicts.Count < limit)
                {
                    conflicts.Add((first, applied));
                }
            }
        }

        conflicts.Sort((a, b) => a.Item1.Index.CompareTo(b.Item1.Index));
        return (seen.Count, conflicts);
    }

    internal static Applied? Parse(int node, string line)
    {
        string[] parts = line.Split(' ');
        return parts is ["apply", var index, var term, var digest]
            && long.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out long i)
            && long.TryParse(term, NumberStyles.None, CultureInfo.InvariantCulture, out long t)
            && (digest == "-" || (digest.Length == 16 && digest.All(char.IsAsciiHexDigitLower)))
            ? new Applied(node, i, t, digest)
            : null;
    }
}
