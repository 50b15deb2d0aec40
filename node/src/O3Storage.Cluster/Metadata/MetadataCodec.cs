// Owns: the binary encoding of metadata commands (Raft log payloads) and of the state snapshot.
// Assumes: nothing about the transport; bytes in, typed values out.
// Faults: a record from a newer format version, an unknown command kind, or a truncated record is a
// MetadataFormatException naming what was seen, never a partial apply.
namespace O3Storage.Cluster.Metadata;

public static class MetadataCodec
{
    /// <summary>The record format this build writes and the newest it reads.</summary>
    public const byte RecordFormatVersion = 1;

    private const uint SnapshotMagic = 0x534D_334F; // "O3MS" little-endian
    private const byte SnapshotFormatVersion = 1;

    private enum CommandKind : ushort
    {
        InitializeCluster = 1,
        AddMember = 2,
        RemoveMember = 3,
    }

    public static byte[] Encode(MetadataCommand command)
    {
        var writer = new BinaryRecordWriter();
        writer.WriteByte(RecordFormatVersion);
        switch (command)
        {
            case InitializeCluster init:
                writer.WriteUInt16((ushort)CommandKind.InitializeCluster);
                WriteSettings(writer, init.Settings);
                writer.WriteGuid(init.IncarnationId);
                break;
            case AddMember add:
                writer.WriteUInt16((ushort)CommandKind.AddMember);
                writer.WriteString(add.NodeId);
                writer.WriteString(add.ClusterEndPoint);
                writer.WriteGuid(add.Uuid);
                break;
            case RemoveMember remove:
                writer.WriteUInt16((ushort)CommandKind.RemoveMember);
                writer.WriteString(remove.NodeId);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "command has no encoding");
        }

        return writer.ToArray();
    }

    public static MetadataCommand Decode(ReadOnlySpan<byte> record)
    {
        var reader = new BinaryRecordReader(record);
        byte version = reader.ReadByte();
        if (version != RecordFormatVersion)
        {
            throw new MetadataFormatException(
                $"metadata record format version {version} is not understood by this node (it reads version {RecordFormatVersion}); upgrade this node");
        }

        ushort kind = reader.ReadUInt16();
        MetadataCommand command = (CommandKind)kind switch
        {
            CommandKind.InitializeCluster => new InitializeCluster(ReadSettings(ref reader), reader.ReadGuid()),
            CommandKind.AddMember => new AddMember(reader.ReadString(), reader.ReadString(), reader.ReadGuid()),
            CommandKind.RemoveMember => new RemoveMember(reader.ReadString()),
            _ => throw new MetadataFormatException($"metadata command kind {kind} is not understood by this node; upgrade this node"),
        };

        if (!reader.IsEmpty)
        {
            throw new MetadataFormatException($"metadata command kind {kind} has trailing bytes");
        }

        return command;
    }

    public static byte[] EncodeSnapshot(MetadataState state)
    {
        var writer = new BinaryRecordWriter();
        writer.WriteUInt32(SnapshotMagic);
        writer.WriteByte(SnapshotFormatVersion);
        writer.WriteInt64(state.LastAppliedIndex);
        writer.WriteGuid(state.IncarnationId);
        writer.WriteByte(state.Settings is null ? (byte)0 : (byte)1);
        if (state.Settings is not null)
        {
            WriteSettings(writer, state.Settings);
        }

        writer.WriteInt32(state.Members.Count);
        foreach (MemberRecord member in state.Members.Values)
        {
            writer.WriteString(member.NodeId);
            writer.WriteString(member.ClusterEndPoint);
            writer.WriteGuid(member.Uuid);
            writer.WriteInt64(member.JoinedAtIndex);
        }

        return writer.ToArray();
    }

    public static MetadataState DecodeSnapshot(ReadOnlySpan<byte> data)
    {
        var reader = new BinaryRecordReader(data);
        if (reader.ReadUInt32() != SnapshotMagic)
        {
            throw new MetadataFormatException("metadata snapshot has a wrong magic number");
        }

        byte version = reader.ReadByte();
        if (version != SnapshotFormatVersion)
        {
            throw new MetadataFormatException($"metadata snapshot format version {version} is not understood by this node; upgrade this node");
        }

        long lastApplied = reader.ReadInt64();
        Guid incarnation = reader.ReadGuid();
        ClusterSettings? settings = reader.ReadByte() == 1 ? ReadSettings(ref reader) : null;
        int count = reader.ReadInt32();
        if (count < 0)
        {
            throw new MetadataFormatException("metadata snapshot has a negative member count");
        }

        var members = new List<MemberRecord>(Math.Min(count, 1024));
        for (int i = 0; i < count; i++)
        {
            members.Add(new MemberRecord(reader.ReadString(), reader.ReadString(), reader.ReadGuid(), reader.ReadInt64()));
        }

        return MetadataState.Create(lastApplied, incarnation, settings, members);
    }

    private static void WriteSettings(BinaryRecordWriter writer, ClusterSettings settings)
    {
        writer.WriteString(settings.ClusterId);
        writer.WriteInt32(settings.ReplicationFactor);
        writer.WriteByte((byte)settings.Consistency);
    }

    private static ClusterSettings ReadSettings(ref BinaryRecordReader reader)
    {
        string clusterId = reader.ReadString();
        int replication = reader.ReadInt32();
        byte consistency = reader.ReadByte();
        if (!Enum.IsDefined((ConsistencyLevel)consistency))
        {
            throw new MetadataFormatException($"metadata record holds unknown consistency level {consistency}");
        }

        return new ClusterSettings(clusterId, replication, (ConsistencyLevel)consistency);
    }
}
