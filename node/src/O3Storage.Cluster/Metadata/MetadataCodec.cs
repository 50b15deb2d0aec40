// Owns: the binary encoding of metadata commands (Raft log payloads) and of the state snapshot
// (version 2 adds buckets and objects, version 3 multipart uploads, version 4 member states, removed
// members and maintenance mode, version 5 named snapshots of the namespace and the last restore,
// version 6 the cluster's metadata level, version 7 the cluster's API keys; older snapshots still load),
// written in chunks and read back through a window of its stream (SnapshotSource), never whole in memory.
// Assumes: nothing about the transport; bytes in, typed values out.
// Faults: a record from a newer format version, an unknown command kind, or a truncated record is a
// MetadataFormatException naming what was seen, never a partial apply.
using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace O3Storage.Cluster.Metadata;

public static class MetadataCodec
{
    /// <summary>The record format this build writes and the newest it reads.</summary>
    public const byte RecordFormatVersion = 1;

    /// <summary>
    /// The metadata level this build reads and writes: every command kind belongs to a level
    /// (<see cref="LevelOf"/>), and the cluster commits a kind only once its committed level
    /// (<see cref="MetadataState.ClusterLevel"/>) reaches the kind's, which happens when every member
    /// says it reads that level. Level 1: what builds before levels existed write (kinds 1-16); level 2:
    /// snapshots, restore, a new incarnation, and the level itself (kinds 17-21); level 3: cluster-wide
    /// API keys (kind 22); level 4: small objects carried in the entry (kind 23); level 5: snapshots sent
    /// by reference (<see cref="Raft.SnapshotReference"/>, no command kind).
    /// </summary>
#if O3STORAGE_NEXT_LEVEL_TEST
    public const int Level = 6;
#else
    public const int Level = 5;
#endif

    /// <summary>The level from which a leader sends a member a reference to its snapshot instead of the snapshot.</summary>
    public const int SnapshotReferenceLevel = 5;

    /// <summary>The level of <see cref="PutInline"/>: a writer carries a small object in the entry only once the cluster reads it.</summary>
    public const int PutInlineLevel = 4;

    /// <summary>Bytes a snapshot is written in: one chunk's buffer is all the writing holds, whatever the size of the state.</summary>
    public const int SnapshotChunkBytes = 1 << 20;

    private const uint SnapshotMagic = 0x534D_334F; // "O3MS" little-endian
    private const byte SnapshotFormatVersion = 7;

    /// <summary>A blob's id, length and CRC-32C as written.</summary>
    private const int BlobRefBytes = 16 + 8 + 4;

    private enum CommandKind : ushort
    {
        InitializeCluster = 1,
        AddMember = 2,
        RemoveMember = 3,
        CreateBucket = 4,
        DeleteBucket = 5,
        PutObject = 6,
        DeleteObject = 7,
        CreateMultipartUpload = 8,
        PutPart = 9,
        CompleteMultipartUpload = 10,
        AbortMultipartUpload = 11,
        Batch = 12,
        SetReplicas = 13,
        PutCopy = 14,
        SetMemberState = 15,
        SetMaintenance = 16,
        CreateSnapshot = 17,
        DeleteSnapshot = 18,
        RestoreSnapshot = 19,
        RefoundCluster = 20,
        SetClusterLevel = 21,
        SetApiKeys = 22,
        PutInline = 23,
#if O3STORAGE_NEXT_LEVEL_TEST
        TestNote = 90,
#endif
    }

    /// <summary>The metadata level a member must read for <paramref name="command"/> to be committed (a batch: its highest).</summary>
    public static int LevelOf(MetadataCommand command) => command switch
    {
        Batch batch => batch.Commands.Select(LevelOf).DefaultIfEmpty(1).Max(),
        CreateSnapshot or DeleteSnapshot or RestoreSnapshot or RefoundCluster or SetClusterLevel => 2,
        SetApiKeys => 3,
        PutInline => PutInlineLevel,
#if O3STORAGE_NEXT_LEVEL_TEST
        TestNote => Level,
#endif
        _ => 1,
    };

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
                writer.WriteInt64(remove.RemovedUnixMs);
                break;
            case SetMemberState set:
                writer.WriteUInt16((ushort)CommandKind.SetMemberState);
                writer.WriteString(set.NodeId);
                writer.WriteByte((byte)set.State);
                break;
            case SetMaintenance set:
                writer.WriteUInt16((ushort)CommandKind.SetMaintenance);
                WriteMaintenance(writer, set.Mode);
                break;
            case SetClusterLevel level:
                writer.WriteUInt16((ushort)CommandKind.SetClusterLevel);
                writer.WriteInt32(level.Level);
                break;
            case SetApiKeys set:
                writer.WriteUInt16((ushort)CommandKind.SetApiKeys);
                writer.WriteString(set.Source);
                WriteKeys(writer, set.Keys);
                break;
#if O3STORAGE_NEXT_LEVEL_TEST
            case TestNote note:
                writer.WriteUInt16((ushort)CommandKind.TestNote);
                writer.WriteString(note.Text);
                break;
#endif
            case RefoundCluster refound:
                writer.WriteUInt16((ushort)CommandKind.RefoundCluster);
                writer.WriteGuid(refound.IncarnationId);
                writer.WriteString(refound.NodeId);
                writer.WriteInt64(refound.UnixMs);
                break;
            case CreateSnapshot create:
                writer.WriteUInt16((ushort)CommandKind.CreateSnapshot);
                writer.WriteString(create.Name);
                writer.WriteInt64(create.CreatedUnixMs);
                break;
            case DeleteSnapshot delete:
                writer.WriteUInt16((ushort)CommandKind.DeleteSnapshot);
                writer.WriteString(delete.Name);
                break;
            case RestoreSnapshot restore:
                writer.WriteUInt16((ushort)CommandKind.RestoreSnapshot);
                writer.WriteString(restore.Name);
                writer.WriteInt64(restore.RequestedUnixMs);
                writer.WriteInt64(restore.ExpectedLastRestoreIndex);
                break;
            case CreateBucket create:
                writer.WriteUInt16((ushort)CommandKind.CreateBucket);
                writer.WriteString(create.Name);
                writer.WriteInt64(create.CreatedUnixMs);
                break;
            case DeleteBucket delete:
                writer.WriteUInt16((ushort)CommandKind.DeleteBucket);
                writer.WriteString(delete.Name);
                break;
            case PutObject put:
                writer.WriteUInt16((ushort)CommandKind.PutObject);
                writer.WriteString(put.Bucket);
                WriteObject(writer, put.Version);
                break;
            case PutInline put:
                writer.WriteUInt16((ushort)CommandKind.PutInline);
                writer.WriteString(put.Bucket);
                WriteObject(writer, put.Version);
                writer.WriteBlock(put.Content.Span);
                break;
            case DeleteObject remove:
                writer.WriteUInt16((ushort)CommandKind.DeleteObject);
                writer.WriteString(remove.Bucket);
                writer.WriteString(remove.Key);
                break;
            case CreateMultipartUpload create:
                writer.WriteUInt16((ushort)CommandKind.CreateMultipartUpload);
                writer.WriteString(create.Bucket);
                WriteUpload(writer, create.Upload with { Parts = MultipartUpload.NoParts });
                break;
            case PutPart part:
                writer.WriteUInt16((ushort)CommandKind.PutPart);
                writer.WriteString(part.Bucket);
                writer.WriteString(part.UploadId);
                WritePart(writer, part.Part);
                break;
            case CompleteMultipartUpload complete:
                writer.WriteUInt16((ushort)CommandKind.CompleteMultipartUpload);
                writer.WriteString(complete.Bucket);
                writer.WriteString(complete.UploadId);
                WriteObject(writer, complete.Version);
                break;
            case AbortMultipartUpload abort:
                writer.WriteUInt16((ushort)CommandKind.AbortMultipartUpload);
                writer.WriteString(abort.Bucket);
                writer.WriteString(abort.UploadId);
                break;
            case PutCopy copy:
                writer.WriteUInt16((ushort)CommandKind.PutCopy);
                writer.WriteString(copy.Bucket);
                WriteObject(writer, copy.Version);
                writer.WriteString(copy.SourceBucket);
                writer.WriteString(copy.SourceKey);
                writer.WriteInt64(copy.SourceVersionIndex);
                break;
            case SetReplicas set:
                writer.WriteUInt16((ushort)CommandKind.SetReplicas);
                writer.WriteString(set.Bucket);
                writer.WriteString(set.Key);
                writer.WriteInt64(set.VersionIndex);
                WriteReplicas(writer, set.Replicas);
                if (set.Expected is { } expected)
                {
                    WriteReplicas(writer, expected); // optional tail: records before it end here
                }

                break;
            case Batch batch:
                writer.WriteUInt16((ushort)CommandKind.Batch);
                writer.WriteInt32(batch.Commands.Count);
                foreach (MetadataCommand inner in batch.Commands)
                {
                    if (!Batch.MayHold(inner))
                    {
                        throw new ArgumentOutOfRangeException(nameof(command), inner.GetType().Name, "a batch holds only bucket and object commands");
                    }

                    writer.WriteBlock(Encode(inner));
                }

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
            // Records written before removals carried a time hold the node id alone.
            CommandKind.RemoveMember => new RemoveMember(reader.ReadString(), reader.IsEmpty ? 0 : reader.ReadInt64()),
            CommandKind.SetMemberState => new SetMemberState(reader.ReadString(), ReadMemberState(ref reader)),
            CommandKind.SetMaintenance => new SetMaintenance(ReadMaintenance(ref reader)),
            CommandKind.SetClusterLevel => new SetClusterLevel(reader.ReadInt32()),
            CommandKind.SetApiKeys => new SetApiKeys(reader.ReadString(), ReadKeys(ref reader)),
#if O3STORAGE_NEXT_LEVEL_TEST
            CommandKind.TestNote => new TestNote(reader.ReadString()),
#endif
            CommandKind.RefoundCluster => new RefoundCluster(reader.ReadGuid(), reader.ReadString(), reader.ReadInt64()),
            CommandKind.CreateSnapshot => new CreateSnapshot(reader.ReadString(), reader.ReadInt64()),
            CommandKind.DeleteSnapshot => new DeleteSnapshot(reader.ReadString()),
            CommandKind.RestoreSnapshot => new RestoreSnapshot(reader.ReadString(), reader.ReadInt64(), reader.ReadInt64()),
            CommandKind.CreateBucket => new CreateBucket(reader.ReadString(), reader.ReadInt64()),
            CommandKind.DeleteBucket => new DeleteBucket(reader.ReadString()),
            CommandKind.PutObject => new PutObject(reader.ReadString(), ReadObject(ref reader)),
            CommandKind.PutInline => new PutInline(reader.ReadString(), ReadObject(ref reader), reader.ReadBlock().ToArray()),
            CommandKind.DeleteObject => new DeleteObject(reader.ReadString(), reader.ReadString()),
            CommandKind.CreateMultipartUpload => new CreateMultipartUpload(reader.ReadString(), ReadUpload(ref reader)),
            CommandKind.PutPart => new PutPart(reader.ReadString(), reader.ReadString(), ReadPart(ref reader)),
            CommandKind.CompleteMultipartUpload => new CompleteMultipartUpload(reader.ReadString(), reader.ReadString(), ReadObject(ref reader)),
            CommandKind.AbortMultipartUpload => new AbortMultipartUpload(reader.ReadString(), reader.ReadString()),
            CommandKind.Batch => ReadBatch(ref reader),
            CommandKind.PutCopy => new PutCopy(reader.ReadString(), ReadObject(ref reader), reader.ReadString(), reader.ReadString(), reader.ReadInt64()),
            CommandKind.SetReplicas => new SetReplicas(reader.ReadString(), reader.ReadString(), reader.ReadInt64(), ReadReplicas(ref reader), reader.IsEmpty ? null : ReadReplicas(ref reader)),
            _ => throw new MetadataFormatException($"metadata command kind {kind} is not understood by this node; upgrade this node"),
        };

        if (!reader.IsEmpty)
        {
            throw new MetadataFormatException($"metadata command kind {kind} has trailing bytes");
        }

        return command;
    }

    /// <summary>The whole snapshot in one array (tests, and small states); a node streams it with <see cref="EncodeSnapshotChunks"/>.</summary>
    public static byte[] EncodeSnapshot(MetadataState state)
    {
        var whole = new ArrayBufferWriter<byte>();
        foreach (ReadOnlyMemory<byte> chunk in EncodeSnapshotChunks(state))
        {
            whole.Write(chunk.Span);
        }

        return whole.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The snapshot of <paramref name="state"/> as chunks of about <see cref="SnapshotChunkBytes"/>, in order; each chunk
    /// is valid until the next is asked for (one buffer is reused), so write it out before moving on.
    /// </summary>
    public static IEnumerable<ReadOnlyMemory<byte>> EncodeSnapshotChunks(MetadataState state)
    {
        var writer = new BinaryRecordWriter(SnapshotChunkBytes + (64 << 10));
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
            writer.WriteByte((byte)member.State);
        }

        foreach (ReadOnlyMemory<byte> chunk in WriteBuckets(writer, state.Buckets))
        {
            yield return chunk;
        }

        writer.WriteInt32(state.Removed.Count);
        foreach (RemovedMember removed in state.Removed.Values)
        {
            writer.WriteString(removed.NodeId);
            writer.WriteGuid(removed.Uuid);
            writer.WriteInt64(removed.RemovedAtIndex);
            writer.WriteInt64(removed.RemovedUnixMs);
        }

        WriteMaintenance(writer, state.Maintenance);
        writer.WriteInt32(state.Snapshots.Count);
        foreach (NamespaceSnapshot snapshot in state.Snapshots.Values)
        {
            writer.WriteString(snapshot.Name);
            writer.WriteInt64(snapshot.CreatedUnixMs);
            writer.WriteInt64(snapshot.Index);
            foreach (ReadOnlyMemory<byte> chunk in WriteBuckets(writer, snapshot.Buckets))
            {
                yield return chunk;
            }
        }

        writer.WriteByte(state.LastRestore is null ? (byte)0 : (byte)1);
        if (state.LastRestore is { } restore)
        {
            writer.WriteString(restore.Snapshot);
            writer.WriteInt64(restore.Index);
            writer.WriteInt64(restore.RestoredUnixMs);
        }

        writer.WriteInt32(state.ClusterLevel);
        writer.WriteInt32(state.ApiKeys.Count);
        foreach ((string source, ImmutableArray<ClusterKey> keys) in state.ApiKeys)
        {
            writer.WriteString(source);
            WriteKeys(writer, keys);
        }

        yield return writer.Written;
    }

    /// <summary>Writes <paramref name="buckets"/>, handing out a chunk (and starting the next) whenever the writer holds a chunk's worth.</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> WriteBuckets(BinaryRecordWriter writer, IReadOnlyDictionary<string, BucketState> buckets)
    {
        writer.WriteInt32(buckets.Count);
        foreach (BucketState bucket in buckets.Values)
        {
            writer.WriteString(bucket.Info.Name);
            writer.WriteInt64(bucket.Info.CreatedUnixMs);
            writer.WriteInt64(bucket.Info.CreatedAtIndex);
            writer.WriteInt32(bucket.Objects.Count);
            foreach (ObjectVersion version in bucket.Objects)
            {
                WriteObject(writer, version);
                if (writer.Length >= SnapshotChunkBytes)
                {
                    yield return writer.Written;
                    writer.Clear();
                }
            }

            writer.WriteInt32(bucket.Uploads.Count);
            foreach (MultipartUpload upload in bucket.Uploads.Values)
            {
                WriteUpload(writer, upload);
                if (writer.Length >= SnapshotChunkBytes)
                {
                    yield return writer.Written;
                    writer.Clear();
                }
            }
        }
    }

    /// <summary>Reads the buckets of the state or of one of its named snapshots, a record (bucket, object, upload) at a time.</summary>
    /// <param name="current">The namespace's buckets, when reading a snapshot of it: a version it holds unchanged is shared, not held twice in memory.</param>
    private static List<BucketState> ReadBuckets(SnapshotSource source, byte version, IReadOnlyDictionary<string, BucketState>? current = null)
    {
        var buckets = new List<BucketState>();
        int bucketCount = version >= 2 ? source.Read(static (ref BinaryRecordReader reader) => ReadCount(ref reader, "bucket")) : 0;
        for (int b = 0; b < bucketCount; b++)
        {
            (BucketRecord info, int objectCount) = source.Read(static (ref BinaryRecordReader reader) =>
                (new BucketRecord(reader.ReadString(), reader.ReadInt64(), reader.ReadInt64()), ReadCount(ref reader, "object")));
            ObjectIndex? now = current is not null && current.TryGetValue(info.Name, out BucketState? same) ? same.Objects : null;
            var objects = new List<ObjectVersion>(Math.Min(objectCount, 1 << 20));
            for (int o = 0; o < objectCount; o++)
            {
                ObjectVersion read = source.Read(ReadObject);
                objects.Add(now?.Find(read.Key) is { } shared && shared.VersionIndex == read.VersionIndex && shared.Replicas.SequenceEqual(read.Replicas) ? shared : read);
            }

            var uploads = BucketState.NoUploads.ToBuilder();
            int uploadCount = version >= 3 ? source.Read(static (ref BinaryRecordReader reader) => ReadCount(ref reader, "upload")) : 0;
            for (int u = 0; u < uploadCount; u++)
            {
                MultipartUpload upload = source.Read(ReadUpload);
                uploads[upload.UploadId] = upload;
            }

            buckets.Add(new BucketState(info, ObjectIndex.Create(objects)) { Uploads = uploads.ToImmutable() });
        }

        return buckets;
    }

    /// <summary>Reads a whole snapshot held in memory (tests, tools); a node reads its file with <see cref="DecodeSnapshot(Stream)"/>.</summary>
    public static MetadataState DecodeSnapshot(byte[] data) => DecodeSnapshot(new MemoryStream(data, writable: false));

    /// <inheritdoc cref="DecodeSnapshot(byte[])"/>
    public static MetadataState DecodeSnapshot(ReadOnlySpan<byte> data) => DecodeSnapshot(data.ToArray());

    /// <summary>Reads a snapshot from <paramref name="stream"/> through a window of it (<see cref="SnapshotSource"/>), never the whole of it in memory at once.</summary>
    public static MetadataState DecodeSnapshot(Stream stream) => DecodeSnapshot(new SnapshotSource(stream));

    internal static MetadataState DecodeSnapshot(SnapshotSource source)
    {
        try
        {
            return DecodeSnapshotEntries(source);
        }
        catch (ArgumentException e)
        {
            // Two members, buckets, objects, snapshots or key sources by one name: the maps refuse
            // them (found by ParserFuzzTests.MetadataRecordsAndSnapshots). No node writes that.
            throw new MetadataFormatException($"metadata snapshot has two entries by one name ({e.Message})");
        }
    }

    private static MetadataState DecodeSnapshotEntries(SnapshotSource source)
    {
        (byte version, long lastApplied, Guid incarnation, ClusterSettings? settings, List<MemberRecord> members) = source.Read(static (ref BinaryRecordReader reader) =>
        {
            if (reader.ReadUInt32() != SnapshotMagic)
            {
                throw new MetadataFormatException("metadata snapshot has a wrong magic number");
            }

            byte version = reader.ReadByte();
            if (version is < 1 or > SnapshotFormatVersion)
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
                members.Add(new MemberRecord(reader.ReadString(), reader.ReadString(), reader.ReadGuid(), reader.ReadInt64(), version >= 4 ? ReadMemberState(ref reader) : MemberState.Active));
            }

            return (version, lastApplied, incarnation, settings, members);
        });

        List<BucketState> buckets = ReadBuckets(source, version);
        (List<RemovedMember> removedMembers, MaintenanceMode? maintenance, int snapshotCount) = version < 4 ? ([], null, 0) : source.Read((ref BinaryRecordReader reader) =>
        {
            var removedMembers = new List<RemovedMember>();
            int removedCount = ReadCount(ref reader, "removed member");
            for (int i = 0; i < removedCount; i++)
            {
                removedMembers.Add(new RemovedMember(reader.ReadString(), reader.ReadGuid(), reader.ReadInt64(), reader.ReadInt64()));
            }

            return (removedMembers, ReadMaintenance(ref reader), version >= 5 ? ReadCount(ref reader, "snapshot") : 0);
        });

        var snapshots = new List<NamespaceSnapshot>();
        ImmutableSortedDictionary<string, BucketState> current = MetadataState.BucketMap(buckets);
        for (int i = 0; i < snapshotCount; i++)
        {
            (string name, long created, long index) = source.Read(static (ref BinaryRecordReader reader) => (reader.ReadString(), reader.ReadInt64(), reader.ReadInt64()));
            snapshots.Add(new NamespaceSnapshot(name, created, index, MetadataState.BucketMap(ReadBuckets(source, version, current))));
        }

        (SnapshotRestore? lastRestore, int clusterLevel, List<KeyValuePair<string, ImmutableArray<ClusterKey>>> apiKeys) = source.Read((ref BinaryRecordReader reader) =>
        {
            SnapshotRestore? lastRestore = version >= 5 && reader.ReadByte() == 1 ? new SnapshotRestore(reader.ReadString(), reader.ReadInt64(), reader.ReadInt64()) : null;
            int clusterLevel = version >= 6 ? reader.ReadInt32() : 1;
            var apiKeys = new List<KeyValuePair<string, ImmutableArray<ClusterKey>>>();
            int sourceCount = version >= 7 ? ReadCount(ref reader, "key source") : 0;
            for (int i = 0; i < sourceCount; i++)
            {
                apiKeys.Add(KeyValuePair.Create(reader.ReadString(), ReadKeys(ref reader)));
            }

            return (lastRestore, clusterLevel, apiKeys);
        });

        if (!source.AtEnd)
        {
            throw new MetadataFormatException("metadata snapshot has trailing bytes");
        }

        return MetadataState.Create(lastApplied, incarnation, settings, members, buckets, removedMembers, maintenance, snapshots, lastRestore, clusterLevel, apiKeys);
    }

    private static void WriteKeys(BinaryRecordWriter writer, ImmutableArray<ClusterKey> keys)
    {
        writer.WriteInt32(keys.IsDefault ? 0 : keys.Length);
        foreach (ClusterKey key in keys.IsDefault ? [] : keys)
        {
            writer.WriteByte(key.Role);
            writer.WriteString(key.Secret);
            writer.WriteString(key.AccessKeyId);
        }
    }

    private static ImmutableArray<ClusterKey> ReadKeys(ref BinaryRecordReader reader)
    {
        int count = ReadCount(ref reader, "key");
        var keys = ImmutableArray.CreateBuilder<ClusterKey>(Math.Min(count, 1024));
        for (int i = 0; i < count; i++)
        {
            byte role = reader.ReadByte();
            keys.Add(role <= ClusterKey.RoleMax
                ? new ClusterKey(role, reader.ReadString(), reader.ReadString())
                : throw new MetadataFormatException($"metadata record holds unknown key role {role}"));
        }

        return keys.ToImmutable();
    }

    private static MemberState ReadMemberState(ref BinaryRecordReader reader)
    {
        byte state = reader.ReadByte();
        return Enum.IsDefined((MemberState)state) ? (MemberState)state : throw new MetadataFormatException($"metadata record holds unknown member state {state}");
    }

    private static void WriteMaintenance(BinaryRecordWriter writer, MaintenanceMode? mode)
    {
        writer.WriteByte(mode is null ? (byte)0 : (byte)1);
        if (mode is not null)
        {
            writer.WriteString(mode.Reason);
            writer.WriteInt64(mode.SinceUnixMs);
        }
    }

    private static MaintenanceMode? ReadMaintenance(ref BinaryRecordReader reader) =>
        reader.ReadByte() == 1 ? new MaintenanceMode(reader.ReadString(), reader.ReadInt64()) : null;

    private static Batch ReadBatch(ref BinaryRecordReader reader)
    {
        int count = ReadCount(ref reader, "batch");
        var commands = new List<MetadataCommand>(Math.Min(count, 4096));
        for (int i = 0; i < count; i++)
        {
            MetadataCommand inner = Decode(reader.ReadBlock());
            commands.Add(Batch.MayHold(inner) ? inner : throw new MetadataFormatException($"a metadata batch holds a {inner.GetType().Name}, which it may not"));
        }

        return new Batch(commands);
    }

    private static int ReadCount(ref BinaryRecordReader reader, string what)
    {
        int count = reader.ReadInt32();
        return count >= 0 ? count : throw new MetadataFormatException($"metadata record has a negative {what} count");
    }

    private static void WriteObject(BinaryRecordWriter writer, ObjectVersion version)
    {
        writer.WriteString(version.Key);
        writer.WriteInt64(version.VersionIndex);
        writer.WriteInt64(version.SizeBytes);
        writer.WriteString(version.ETag);
        writer.WriteString(version.ContentType);
        writer.WriteInt64(version.CreatedUnixMs);
        WriteUserMetadata(writer, version.UserMetadata);
        WriteBlobs(writer, version.Blobs);
        WriteReplicas(writer, version.Replicas);
    }

    private static void WriteUserMetadata(BinaryRecordWriter writer, ImmutableArray<KeyValuePair<string, string>> metadata)
    {
        writer.WriteInt32(metadata.Length);
        foreach ((string name, string value) in metadata)
        {
            writer.WriteString(name);
            writer.WriteString(value);
        }
    }

    private static ImmutableArray<KeyValuePair<string, string>> ReadUserMetadata(ref BinaryRecordReader reader)
    {
        int count = ReadCount(ref reader, "user metadata");
        if (count == 0)
        {
            return [];
        }

        var metadata = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>(Math.Min(count, 64));
        for (int i = 0; i < count; i++)
        {
            metadata.Add(KeyValuePair.Create(reader.ReadString(), reader.ReadString()));
        }

        return metadata.ToImmutable();
    }

    private static void WriteBlobs(BinaryRecordWriter writer, ImmutableArray<BlobRef> blobs)
    {
        writer.WriteInt32(blobs.Length);
        foreach (BlobRef blob in blobs)
        {
            writer.WriteUInt128(blob.BlobId);
            writer.WriteInt64(blob.LengthBytes);
            writer.WriteUInt32(blob.Crc32C);
        }
    }

    /// <param name="sizeBytes">The blobs' lengths added up.</param>
    private static ImmutableArray<BlobRef> ReadBlobs(ref BinaryRecordReader reader, out long sizeBytes)
    {
        int count = ReadCount(ref reader, "blob");
        sizeBytes = 0;
        if (count > reader.Remaining / BlobRefBytes)
        {
            throw new MetadataFormatException($"metadata record is truncated: {count} blobs do not fit in {reader.Remaining} bytes") { Truncated = true };
        }

        var blobs = new BlobRef[count];
        for (int i = 0; i < count; i++)
        {
            blobs[i] = new BlobRef(reader.ReadUInt128(), reader.ReadInt64(), reader.ReadUInt32());
            sizeBytes += blobs[i].LengthBytes;
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(blobs);
    }

    private static void WriteReplicas(BinaryRecordWriter writer, ImmutableArray<string> replicas)
    {
        writer.WriteInt32(replicas.Length);
        foreach (string replica in replicas)
        {
            writer.WriteString(replica);
        }
    }

    private static ImmutableArray<string> ReadReplicas(ref BinaryRecordReader reader)
    {
        int count = ReadCount(ref reader, "replica");
        if (count > reader.Remaining / sizeof(ushort))
        {
            throw new MetadataFormatException($"metadata record is truncated: {count} replicas do not fit in {reader.Remaining} bytes") { Truncated = true };
        }

        // Read into room on the stack in the common case, so no list is made only to find the kept one.
        var room = default(NodeIds);
        Span<string> read = count <= NodeIds.Length ? room[..count] : new string[count];
        for (int i = 0; i < count; i++)
        {
            read[i] = reader.ReadSharedString(SharedValues.Process);
        }

        return SharedValues.Process.ReplicasOf(read);
    }

    private static ObjectVersion ReadObject(ref BinaryRecordReader reader)
    {
        string key = reader.ReadString();
        long versionIndex = reader.ReadInt64();
        long size = reader.ReadInt64();
        string etag = reader.ReadString();
        string contentType = reader.ReadSharedString(SharedValues.Process);
        long created = reader.ReadInt64();
        ImmutableArray<KeyValuePair<string, string>> metadata = ReadUserMetadata(ref reader);
        ImmutableArray<BlobRef> blobs = ReadBlobs(ref reader, out long blobBytes);
        ImmutableArray<string> replicas = ReadReplicas(ref reader);

        if (size < 0 || blobBytes != size)
        {
            throw new MetadataFormatException($"metadata object '{key}' says {size} bytes but its blobs hold {blobBytes}");
        }

        return new ObjectVersion(key, versionIndex, size, etag, contentType, created, metadata, blobs, replicas);
    }

    private static void WriteUpload(BinaryRecordWriter writer, MultipartUpload upload)
    {
        writer.WriteString(upload.UploadId);
        writer.WriteString(upload.Key);
        writer.WriteInt64(upload.InitiatedUnixMs);
        writer.WriteString(upload.ContentType);
        WriteUserMetadata(writer, upload.UserMetadata);
        writer.WriteInt32(upload.Parts.Count);
        foreach (UploadedPart part in upload.Parts.Values)
        {
            WritePart(writer, part);
        }
    }

    private static MultipartUpload ReadUpload(ref BinaryRecordReader reader)
    {
        string uploadId = reader.ReadString();
        string key = reader.ReadString();
        long initiated = reader.ReadInt64();
        string contentType = reader.ReadString();
        ImmutableArray<KeyValuePair<string, string>> metadata = ReadUserMetadata(ref reader);
        int partCount = ReadCount(ref reader, "part");
        var parts = MultipartUpload.NoParts.ToBuilder();
        for (int i = 0; i < partCount; i++)
        {
            UploadedPart part = ReadPart(ref reader);
            parts[part.PartNumber] = part;
        }

        return new MultipartUpload(uploadId, key, initiated, contentType, metadata, parts.ToImmutable());
    }

    private static void WritePart(BinaryRecordWriter writer, UploadedPart part)
    {
        writer.WriteInt32(part.PartNumber);
        writer.WriteString(part.ETag);
        writer.WriteInt64(part.SizeBytes);
        writer.WriteInt64(part.LastModifiedUnixMs);
        WriteBlobs(writer, part.Blobs);
        WriteReplicas(writer, part.Replicas);
    }

    private static UploadedPart ReadPart(ref BinaryRecordReader reader)
    {
        int number = reader.ReadInt32();
        string etag = reader.ReadString();
        long size = reader.ReadInt64();
        long modified = reader.ReadInt64();
        ImmutableArray<BlobRef> blobs = ReadBlobs(ref reader, out long blobBytes);
        ImmutableArray<string> replicas = ReadReplicas(ref reader);
        if (size < 0 || blobBytes != size)
        {
            throw new MetadataFormatException($"metadata part {number} says {size} bytes but its blobs hold {blobBytes}");
        }

        return new UploadedPart(number, etag, size, modified, blobs, replicas);
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

    /// <summary>Room for the node ids of one replica list while the kept list is looked up.</summary>
    [InlineArray(Length)]
    private struct NodeIds
    {
        public const int Length = 16;

        private string _first;
    }
}
