// Owns: what a leader sends through Raft in place of a metadata snapshot (the snapshot's index and term,
// and the members that can serve it), and its encoding: a few hundred bytes, whatever the state's size.
// Faults: bytes that start like a reference but do not decode are a MetadataFormatException (a damaged
// snapshot file), never a reference with a wrong index.
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
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

        var bytes = new List<byte>(64);
        Span<byte> scratch = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(scratch, Magic);
        bytes.AddRange(scratch[..4]);
        bytes.Add(FormatVersion);
        BinaryPrimitives.WriteInt64LittleEndian(scratch, Index);
        bytes.AddRange(scratch);
        BinaryPrimitives.WriteInt64LittleEndian(scratch, Term);
        bytes.AddRange(scratch);
        bytes.AddRange(Incarnation.ToByteArray());
        bytes.Add((byte)sources.Length);
        foreach (string source in sources)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(source);
            BinaryPrimitives.WriteUInt16LittleEndian(scratch, checked((ushort)utf8.Length));
            bytes.AddRange(scratch[..2]);
            bytes.AddRange(utf8);
        }

        return [.. bytes];
    }

    /// <exception cref="MetadataFormatException">Not a whole reference of a version this build reads.</exception>
    public static SnapshotReference Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            if (!StartsReference(data) || data[4] != FormatVersion)
            {
                throw new MetadataFormatException($"not a snapshot reference of version {FormatVersion}");
            }

            long index = BinaryPrimitives.ReadInt64LittleEndian(data[5..]);
            long term = BinaryPrimitives.ReadInt64LittleEndian(data[13..]);
            var incarnation = new Guid(data.Slice(21, 16));
            int count = data[37];
            ReadOnlySpan<byte> rest = data[38..];
            var sources = ImmutableArray.CreateBuilder<string>(count);
            for (int i = 0; i < count; i++)
            {
                int length = BinaryPrimitives.ReadUInt16LittleEndian(rest);
                sources.Add(Encoding.UTF8.GetString(rest.Slice(2, length)));
                rest = rest[(2 + length)..];
            }

            return index < 1 || term < 0 || count > SourcesMax
                ? throw new MetadataFormatException($"a snapshot reference to index {index}, term {term}, with {count} sources")
                : new SnapshotReference(index, term, incarnation, sources.MoveToImmutable());
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw new MetadataFormatException($"a snapshot reference cut short ({data.Length} bytes)");
        }
    }
}
