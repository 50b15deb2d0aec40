// Owns: keeping once the values that millions of object records repeat: content types, node ids and
// replica lists (in a 3-node cluster every object has the same one). Each decoded record used to hold
// its own copies: 264 of an object's 680 bytes of memory (bench/MetadataBench).
// Bounded: past its capacity of distinct values a value is kept as it was read, so a client sending
// endless content types cannot grow it (the values kept until then stay shared).
using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

internal sealed class SharedValues(int capacity)
{
    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ImmutableArray<string>, ImmutableArray<string>> _replicaLists = new(SameNodeIds.Instance);

    /// <summary>The process's pool, which the metadata codec decodes into.</summary>
    public static SharedValues Process { get; } = new(4096);

    /// <summary>The one kept instance equal to <paramref name="value"/> (or <paramref name="value"/> itself once the pool is full).</summary>
    public string String(string value) =>
        _strings.TryGetValue(value, out string? shared) ? shared
        : _strings.Count < capacity ? _strings.GetOrAdd(value, value)
        : value;

    /// <summary>The one kept replica list with these node ids in this order (or <paramref name="replicas"/> once the pool is full).</summary>
    public ImmutableArray<string> Replicas(ImmutableArray<string> replicas) =>
        _replicaLists.TryGetValue(replicas, out ImmutableArray<string> shared) ? shared
            : _replicaLists.Count < capacity ? _replicaLists.GetOrAdd(replicas, replicas)
            : replicas;

    /// <summary>Replica lists compared by their node ids in order (ImmutableArray's own equality compares the array instance).</summary>
    private sealed class SameNodeIds : IEqualityComparer<ImmutableArray<string>>
    {
        public static SameNodeIds Instance { get; } = new();

        public bool Equals(ImmutableArray<string> x, ImmutableArray<string> y) => x.AsSpan().SequenceEqual(y.AsSpan());

        public int GetHashCode(ImmutableArray<string> list)
        {
            var hash = default(HashCode);
            foreach (string id in list)
            {
                hash.Add(id, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }
    }
}
