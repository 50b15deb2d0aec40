// Owns: what a leader sends through Raft in place of a metadata snapshot (the snapshot's index and term,
// and the members that can serve it), and its encoding: a few hundred bytes, whatever the state's size.
// Faults: bytes that start like a reference but do not decode are a MetadataFormatException (a damaged
// snapshot file), never a reference with a wrong index.
using System.Buffers.Binary;
using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Raft;

/// <summary>
/// A metadata snapshot named instead of carried. DotNext sends a snapshot as one request, which must end
/// within the Raft request timeout (2 s), the receiver's install included: a gigabyte of metadata (5
/// million objects) never does, and a member behind the leader's last snapshot, or a new one, would never
/// catch up. So a leader sends this, and the receiver fetches the snapshot itself from one of
/// <see cref="Sources"/> (a member's API, any member whose snapshot is at <see cref="Index"/> or later),
/// for as long as that takes (<see cref="MetadataStateMachine"/>).
/// </summary>
/// <param name="Incarnation">The cluster's incarnation: what the receiver shows a source it has no certificate for, to be given the snapshot (it came over Raft, as the snapshot would have).</param>
/// <param name="Sources">Node ids (API addresses) to fetch from, in the order to try them.</param>
public sealed record SnapshotReference(long Index, long Term, Guid Incarnation, ImmutableArray<string> Sources)
{
    /// <summary>"O3SR" little-endian: a metadata snapshot starts with "O3MS".</summary>
    private const uint Magic = 0x5253_334F;

    private const byte FormatVersion = 1;

    private const int SourcesMax = 64;

    /// <summary>Whether <paramref name="head"/> (a snapshot file's first bytes) starts a reference rather than a snapshot.</summary>
    public static bool StartsReference(ReadOnlySpan<byte> head) =>
        head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == Magic;

    public byte[] Encode()
    {
        ImmutableArray<string> sources = Sources.IsDefault ? [] : Sources;
        if (sources.Length > SourcesMax)
        {
            sources = sources[..SourcesMax];
        }

        var writer = new BinaryRecordWriter(64);
        writer.WriteUInt32(Magic);
        writer.WriteByte(FormatVersion);
        writer.WriteInt64(Index);
        writer.WriteInt64(Term);
        writer.WriteGuid(Incarnation);
        writer.WriteByte((byte)sources.Length);
        foreach (string source in sources)
        {
            writer.WriteString(source);
        }

        return writer.ToArray();
    }

    /// <exception cref="MetadataFormatException">Not a whole reference of a version this build reads.</exception>
    public static SnapshotReference Decode(ReadOnlySpan<byte> data)
    {
        var reader = new BinaryRecordReader(data);
        if (reader.ReadUInt32() != Magic || reader.ReadByte() != FormatVersion)
        {
            throw new MetadataFormatException($"not a snapshot reference of version {FormatVersion}");
        }

        long index = reader.ReadInt64();
        long term = reader.ReadInt64();
        Guid incarnation = reader.ReadGuid();
        int count = reader.ReadByte();
        var sources = ImmutableArray.CreateBuilder<string>(count);
        for (int i = 0; i < count; i++)
        {
            sources.Add(reader.ReadString());
        }

        return index < 1 || term < 0 || count > SourcesMax
            ? throw new MetadataFormatException($"a snapshot reference to index {index}, term {term}, with {count} sources")
            : new SnapshotReference(index, term, incarnation, sources.MoveToImmutable());
    }
}
