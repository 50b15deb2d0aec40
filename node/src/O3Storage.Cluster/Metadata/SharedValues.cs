// Owns: keeping once the values that millions of object records repeat: content types, node ids and
// replica lists (in a 3-node cluster every object has the same one). Each decoded record used to hold
// its own copies: 264 of an object's 680 bytes of memory (bench/MetadataBench).
// Bounded: past its capacity of distinct values a value is kept as it was read, so a client sending
// endless content types cannot grow it (the values kept until then stay shared).
using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

internal sealed class SharedValues
{
    private readonly int _capacity;
    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _stringsByChars;
    private readonly ConcurrentDictionary<ImmutableArray<string>, ImmutableArray<string>> _replicaLists = new(SameNodeIds.Instance);
    private readonly ConcurrentDictionary<ImmutableArray<string>, ImmutableArray<string>>.AlternateLookup<ReadOnlySpan<string>> _replicaListsBySpan;

    public SharedValues(int capacity)
    {
        _capacity = capacity;
        _stringsByChars = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
        _replicaListsBySpan = _replicaLists.GetAlternateLookup<ReadOnlySpan<string>>();
    }

    /// <summary>The process's pool, which the metadata codec decodes into.</summary>
    public static SharedValues Process { get; } = new(4096);

    /// <summary>The one kept instance equal to <paramref name="value"/> (or <paramref name="value"/> itself once the pool is full).</summary>
    public string String(string value) =>
        _strings.TryGetValue(value, out string? shared) ? shared
        : _strings.Count < _capacity ? _strings.GetOrAdd(value, value)
        : value;

    /// <summary>As <see cref="String(string)"/>, without making a string when one is kept already (a decoder's common case).</summary>
    public string String(ReadOnlySpan<char> value) =>
        _stringsByChars.TryGetValue(value, out string? shared) ? shared : String(new string(value));

    /// <summary>The one kept replica list with these node ids in this order (or <paramref name="replicas"/> once the pool is full).</summary>
    public ImmutableArray<string> Replicas(ImmutableArray<string> replicas) =>
        _replicaLists.TryGetValue(replicas, out ImmutableArray<string> shared) ? shared
            : _replicaLists.Count < _capacity ? _replicaLists.GetOrAdd(replicas, replicas)
            : replicas;

    /// <summary>As <see cref="Replicas(ImmutableArray{string})"/>, without making a list when one is kept already.</summary>
    public ImmutableArray<string> ReplicasOf(ReadOnlySpan<string> replicas) =>
        _replicaListsBySpan.TryGetValue(replicas, out ImmutableArray<string> shared) ? shared : Replicas(ImmutableArray.Create(replicas));

    /// <summary>Replica lists compared by their node ids in order (ImmutableArray's own equality compares the array instance).</summary>
    private sealed class SameNodeIds : IEqualityComparer<ImmutableArray<string>>, IAlternateEqualityComparer<ReadOnlySpan<string>, ImmutableArray<string>>
    {
        public static SameNodeIds Instance { get; } = new();

        public bool Equals(ImmutableArray<string> x, ImmutableArray<string> y) => x.AsSpan().SequenceEqual(y.AsSpan());

        public bool Equals(ReadOnlySpan<string> alternate, ImmutableArray<string> other) => alternate.SequenceEqual(other.AsSpan());

        public int GetHashCode(ImmutableArray<string> list) => GetHashCode(list.AsSpan());

        public int GetHashCode(ReadOnlySpan<string> list)
        {
            var hash = default(HashCode);
            foreach (string id in list)
            {
                hash.Add(id, StringComparer.Ordinal);
            }

            return hash.ToHashCode();
        }

        public ImmutableArray<string> Create(ReadOnlySpan<string> alternate) => ImmutableArray.Create(alternate);
    }
}
