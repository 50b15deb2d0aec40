// Owns: the replicated metadata, as an immutable value. Apply returns a new state, so readers on
// HTTP threads see a consistent snapshot without locks while the Raft apply loop moves on.
// Assumes: commands arrive in log order, each exactly once (the WAL guarantees it).
// Named snapshots of the object namespace (NamespaceSnapshot) are kept here too: creating one keeps a
// reference to the bucket map as it is (immutable, so nothing is copied), restoring one makes it current.
using System.Collections.Immutable;

namespace O3Storage.Cluster.Metadata;

public sealed record MetadataState
{
    private MetadataState()
    {
    }

    // Before Empty: static initializers run in the order written.
    private static ImmutableSortedDictionary<string, BucketState> NoBuckets { get; } = ImmutableSortedDictionary<string, BucketState>.Empty.WithComparers(StringComparer.Ordinal);

    public static MetadataState Empty { get; } = new();

    public long LastAppliedIndex { get; private init; }

    /// <summary>Identifies one bootstrap of a cluster; a new <c>--bootstrap</c> makes a new incarnation.</summary>
    public Guid IncarnationId { get; private init; }

    /// <summary>Null until the bootstrap node has committed <see cref="InitializeCluster"/>.</summary>
    public ClusterSettings? Settings { get; private init; }

    /// <summary>Members by node id (<c>ip:port</c>), ordinal order.</summary>
    public ImmutableSortedDictionary<string, MemberRecord> Members { get; private init; } = ImmutableSortedDictionary<string, MemberRecord>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Buckets by name (bucket names are lower-case ASCII, so ordinal is S3's order), each with its objects.</summary>
    public ImmutableSortedDictionary<string, BucketState> Buckets { get; private init; } = NoBuckets;

    /// <summary>Nodes removed from the cluster, by node id: a removed node that comes back learns it from here. A node added again leaves this list.</summary>
    public ImmutableSortedDictionary<string, RemovedMember> Removed { get; private init; } = ImmutableSortedDictionary<string, RemovedMember>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Maintenance mode (writes refused cluster-wide), or null when off.</summary>
    public MaintenanceMode? Maintenance { get; private init; }

    /// <summary>How many current object versions list each node as a replica: what /health reports as a node's total_objects, kept as commands apply.</summary>
    public ImmutableDictionary<string, long> ObjectsByReplica { get; private init; } = ImmutableDictionary<string, long>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>Named snapshots of the object namespace, by name (ordinal order).</summary>
    public ImmutableSortedDictionary<string, NamespaceSnapshot> Snapshots { get; private init; } = ImmutableSortedDictionary<string, NamespaceSnapshot>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>The last restore of a snapshot, or null when there was none.</summary>
    public SnapshotRestore? LastRestore { get; private init; }

    /// <summary>The API keys each source gives the cluster (<see cref="SetApiKeys"/>), by source (a member's node id, or the first admin key's).</summary>
    public ImmutableSortedDictionary<string, ImmutableArray<ClusterKey>> ApiKeys { get; private init; } = ImmutableSortedDictionary<string, ImmutableArray<ClusterKey>>.Empty.WithComparers(StringComparer.Ordinal);

    /// <summary>The last object change the applies that made this state recorded (<see cref="ObjectChangesSince"/>); not part of a snapshot.</summary>
    public ObjectChange Changes { get; private init; } = ObjectChange.Reset();

    /// <summary>
    /// The objects (bucket, key) changed between <paramref name="older"/>, an earlier state of this one's
    /// line, and this one; null when that is not known (a snapshot read back, a restore or a removal in
    /// between, or too many changes): then only a walk of every object tells.
    /// </summary>
    public HashSet<(string Bucket, string Key)>? ObjectChangesSince(MetadataState older) => Changes.Since(older.Changes);

    /// <summary>
    /// The blobs (with the replicas that held them) of every object version removed or replaced between
    /// <paramref name="older"/> and this state, intermediate versions included; null when that is not known
    /// (as for <see cref="ObjectChangesSince"/>).
    /// </summary>
    public List<(ImmutableArray<BlobRef> Blobs, ImmutableArray<string> Replicas)>? ObjectsReleasedSince(MetadataState older) => Changes.ReleasedSince(older.Changes);

    /// <summary>The metadata level every member reads (<see cref="MetadataCodec.Level"/>): commands above it are not committed yet.</summary>
    public int ClusterLevel { get; private init; } = 1;

    public static MetadataState Create(long lastAppliedIndex, Guid incarnationId, ClusterSettings? settings, IEnumerable<MemberRecord> members, IEnumerable<BucketState>? buckets = null, IEnumerable<RemovedMember>? removed = null, MaintenanceMode? maintenance = null, IEnumerable<NamespaceSnapshot>? snapshots = null, SnapshotRestore? lastRestore = null, int clusterLevel = 1, IEnumerable<KeyValuePair<string, ImmutableArray<ClusterKey>>>? apiKeys = null)
    {
        ImmutableSortedDictionary<string, BucketState> all = BucketMap(buckets ?? []);
        return new MetadataState
        {
            LastAppliedIndex = lastAppliedIndex,
            IncarnationId = incarnationId,
            Settings = settings,
            Members = Empty.Members.AddRange(members.Select(m => KeyValuePair.Create(m.NodeId, m))),
            Buckets = all,
            ObjectsByReplica = CountReplicas(all),
            Removed = Empty.Removed.AddRange((removed ?? []).Select(r => KeyValuePair.Create(r.NodeId, r))),
            Maintenance = maintenance,
            Snapshots = Empty.Snapshots.AddRange((snapshots ?? []).Select(n => KeyValuePair.Create(n.Name, n))),
            LastRestore = lastRestore,
            ClusterLevel = clusterLevel,
            ApiKeys = Empty.ApiKeys.AddRange(apiKeys ?? []),
        };
    }

    /// <summary>Buckets by name, as <see cref="Buckets"/> keeps them.</summary>
    public static ImmutableSortedDictionary<string, BucketState> BucketMap(IEnumerable<BucketState> buckets) =>
        NoBuckets.AddRange(buckets.Select(b => KeyValuePair.Create(b.Info.Name, b)));

    public ObjectVersion? FindObject(string bucket, string key) =>
        Buckets.TryGetValue(bucket, out BucketState? state) ? state.Objects.Find(key) : null;

    public MemberRecord? FindByClusterEndPoint(string clusterEndPoint) =>
        Members.Values.FirstOrDefault(m => string.Equals(m.ClusterEndPoint, clusterEndPoint, StringComparison.Ordinal));

    public MetadataState Apply(MetadataCommand command, long index)
    {
        if (index <= LastAppliedIndex)
        {
            throw new InvalidOperationException($"log index {index} applied after {LastAppliedIndex}: the log went backwards");
        }

        if (command is Batch batch)
        {
            // Every command of the batch applies at the entry's index, in order.
            MetadataState state = Skip(index);
            foreach (MetadataCommand inner in batch.Commands)
            {
                state = state.ApplyAt(inner, index);
            }

            return state;
        }

        return ApplyAt(command, index);
    }

    private MetadataState ApplyAt(MetadataCommand command, long index)
    {
        return command switch
        {
            InitializeCluster init => this with { LastAppliedIndex = index, IncarnationId = init.IncarnationId, Settings = init.Settings },
            AddMember add => this with { LastAppliedIndex = index, Members = AddOrReplace(add, index), Removed = Removed.Remove(add.NodeId) },
            RemoveMember remove => Members.TryGetValue(remove.NodeId, out MemberRecord? leaving)
                ? (this with { LastAppliedIndex = index, Members = Members.Remove(remove.NodeId), Removed = Removed.SetItem(remove.NodeId, new RemovedMember(remove.NodeId, leaving.Uuid, index, remove.RemovedUnixMs)), ApiKeys = ApiKeys.Remove(remove.NodeId) })
                    .WithoutReplica(remove.NodeId)
                : Skip(index),
            SetMemberState set => With(index, Members.TryGetValue(set.NodeId, out MemberRecord? member) ? Members.SetItem(set.NodeId, member with { State = set.State }) : Members, Buckets),
            SetMaintenance set => this with { LastAppliedIndex = index, Maintenance = set.Mode },
            SetClusterLevel level => this with { LastAppliedIndex = index, ClusterLevel = Math.Max(ClusterLevel, level.Level) },
            SetApiKeys set => this with { LastAppliedIndex = index, ApiKeys = ApiKeys.SetItem(set.Source, set.Keys.IsDefault ? [] : set.Keys) },
#if O3STORAGE_NEXT_LEVEL_TEST
            TestNote => Skip(index),
#endif
            RefoundCluster refound => this with
            {
                LastAppliedIndex = index,
                IncarnationId = refound.IncarnationId,
                Members = Members.RemoveRange(Members.Keys.Where(id => id != refound.NodeId)),
                ApiKeys = ApiKeys.RemoveRange(Members.Keys.Where(id => id != refound.NodeId)), // the others give theirs again when they join anew
            },
            CreateSnapshot create => Snapshots.ContainsKey(create.Name)
                ? Skip(index)
                : this with { LastAppliedIndex = index, Snapshots = Snapshots.Add(create.Name, new NamespaceSnapshot(create.Name, create.CreatedUnixMs, index, Buckets)) },
            DeleteSnapshot delete => this with { LastAppliedIndex = index, Snapshots = Snapshots.Remove(delete.Name) },
            RestoreSnapshot restore => Snapshots.TryGetValue(restore.Name, out NamespaceSnapshot? snapshot) && (LastRestore?.Index ?? 0) == restore.ExpectedLastRestoreIndex
                ? Restore(snapshot, index, restore.RequestedUnixMs)
                : Skip(index),
            CreateBucket create => With(index, Members, Buckets.ContainsKey(create.Name)
                ? Buckets
                : Buckets.Add(create.Name, BucketState.Create(new BucketRecord(create.Name, create.CreatedUnixMs, index)))),
            DeleteBucket delete => With(index, Members, Buckets.TryGetValue(delete.Name, out BucketState? bucket) && bucket.Objects.IsEmpty
                ? Buckets.Remove(delete.Name)
                : Buckets),
            PutObject put => Buckets.TryGetValue(put.Bucket, out BucketState? target)
                ? Replace(index, target, target.Objects.Find(put.Version.Key), put.Version with { VersionIndex = index }, target.Uploads)
                : Skip(index),
            PutInline put => ApplyAt(new PutObject(put.Bucket, put.Version), index),
            PutCopy copy => Buckets.TryGetValue(copy.Bucket, out BucketState? into) && FindObject(copy.SourceBucket, copy.SourceKey)?.VersionIndex == copy.SourceVersionIndex
                ? Replace(index, into, into.Objects.Find(copy.Version.Key), copy.Version with { VersionIndex = index }, into.Uploads)
                : Skip(index),
            DeleteObject remove => Buckets.TryGetValue(remove.Bucket, out BucketState? holder) && holder.Objects.Find(remove.Key) is { } removed
                ? Replace(index, holder, removed, null, holder.Uploads)
                : Skip(index),
            CreateMultipartUpload create => WithBucket(index, create.Bucket, b => b.Uploads.ContainsKey(create.Upload.UploadId)
                ? b
                : b with { Uploads = b.Uploads.Add(create.Upload.UploadId, create.Upload with { Parts = MultipartUpload.NoParts }) }),
            PutPart part => WithBucket(index, part.Bucket, b => b.Uploads.TryGetValue(part.UploadId, out MultipartUpload? upload)
                ? b with { Uploads = b.Uploads.SetItem(part.UploadId, upload with { Parts = upload.Parts.SetItem(part.Part.PartNumber, part.Part) }) }
                : b),
            CompleteMultipartUpload complete => Buckets.TryGetValue(complete.Bucket, out BucketState? target) && target.Uploads.TryGetValue(complete.UploadId, out MultipartUpload? upload)
                && HoldsEveryBlob(upload, complete.Version)
                ? Replace(index, target, target.Objects.Find(complete.Version.Key), complete.Version with { VersionIndex = index }, target.Uploads.Remove(complete.UploadId))
                : Skip(index),
            SetReplicas set => Buckets.TryGetValue(set.Bucket, out BucketState? home) && home.Objects.Find(set.Key) is { } current && current.VersionIndex == set.VersionIndex
                && (set.Expected is not { } expected || SameSet(expected, current.Replicas))
                ? Replace(index, home, current, current with { Replicas = set.Replicas }, home.Uploads)
                : Skip(index),
            AbortMultipartUpload abort => WithBucket(index, abort.Bucket, b => b with { Uploads = b.Uploads.Remove(abort.UploadId) }),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown command"),
        };
    }

    /// <summary>Records a log index that carried no metadata command (Raft configuration or no-op entries).</summary>
    public MetadataState Skip(long index) =>
        index <= LastAppliedIndex ? this : With(index, Members, Buckets);

    private static bool SameSet(ImmutableArray<string> a, ImmutableArray<string> b) =>
        a.Length == b.Length && a.All(b.Contains);

    /// <summary>
    /// Takes <paramref name="nodeId"/> out of every object's and part's replica list (a removal), in the
    /// namespace and in every snapshot of it: O(objects), as rare as removals.
    /// </summary>
    private MetadataState WithoutReplica(string nodeId) =>
        this with
        {
            Buckets = WithoutReplica(Buckets, nodeId),
            ObjectsByReplica = ObjectsByReplica.Remove(nodeId),
            Snapshots = Snapshots.SetItems(Snapshots.Values.Select(n => KeyValuePair.Create(n.Name, n.WithBuckets(WithoutReplica(n.Buckets, nodeId))))),
            Changes = ObjectChange.Reset(), // every replica list, at once
        };

    private static ImmutableSortedDictionary<string, BucketState> WithoutReplica(ImmutableSortedDictionary<string, BucketState> all, string nodeId)
    {
        ImmutableSortedDictionary<string, BucketState> buckets = all;
        foreach (BucketState bucket in all.Values)
        {
            ObjectIndex objects = bucket.Objects;
            foreach (ObjectVersion version in bucket.Objects.Where(v => v.Replicas.Contains(nodeId)))
            {
                objects = objects.SetItem(version with { Replicas = version.Replicas.Remove(nodeId) });
            }

            ImmutableSortedDictionary<string, MultipartUpload> uploads = bucket.Uploads;
            foreach (MultipartUpload upload in bucket.Uploads.Values.Where(u => u.Parts.Values.Any(p => p.Replicas.Contains(nodeId))))
            {
                var parts = upload.Parts.ToDictionary(p => p.Key, p => p.Value.Replicas.Contains(nodeId) ? p.Value with { Replicas = p.Value.Replicas.Remove(nodeId) } : p.Value);
                uploads = uploads.SetItem(upload.UploadId, upload with { Parts = MultipartUpload.NoParts.AddRange(parts) });
            }

            if (!ReferenceEquals(objects, bucket.Objects) || !ReferenceEquals(uploads, bucket.Uploads))
            {
                buckets = buckets.SetItem(bucket.Info.Name, bucket with { Objects = objects, Uploads = uploads });
            }
        }

        return buckets;
    }

    /// <summary>
    /// Makes <paramref name="snapshot"/>'s buckets current. A version still current keeps the replicas it
    /// has now (a move since the snapshot is not undone); any other comes back with the replicas it had,
    /// which kept its blobs all along (the collector keeps every blob a snapshot refers to).
    /// </summary>
    private MetadataState Restore(NamespaceSnapshot snapshot, long index, long restoredUnixMs)
    {
        var buckets = new List<BucketState>(snapshot.Buckets.Count);
        foreach (BucketState saved in snapshot.Buckets.Values)
        {
            ObjectIndex objects = saved.Objects;
            if (Buckets.TryGetValue(saved.Info.Name, out BucketState? now) && !ReferenceEquals(now.Objects, saved.Objects))
            {
                objects = ObjectIndex.Create(saved.Objects.Select(v => now.Objects.Find(v.Key) is { } current && current.VersionIndex == v.VersionIndex ? current : v));
            }

            buckets.Add(saved with { Objects = objects });
        }

        ImmutableSortedDictionary<string, BucketState> restored = BucketMap(buckets);
        return this with
        {
            LastAppliedIndex = index,
            Buckets = restored,
            ObjectsByReplica = CountReplicas(restored),
            LastRestore = new SnapshotRestore(snapshot.Name, index, restoredUnixMs),
            Changes = ObjectChange.Reset(), // the namespace, at once
        };
    }

    private static ImmutableDictionary<string, long> CountReplicas(ImmutableSortedDictionary<string, BucketState> buckets)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (ObjectVersion version in buckets.Values.SelectMany(b => b.Objects))
        {
            foreach (string replica in version.Replicas)
            {
                counts[replica] = counts.GetValueOrDefault(replica) + 1;
            }
        }

        return Empty.ObjectsByReplica.AddRange(counts);
    }

    /// <summary>Whether the upload's current parts hold every blob <paramref name="version"/> names.</summary>
    private static bool HoldsEveryBlob(MultipartUpload upload, ObjectVersion version)
    {
        var held = upload.Parts.Values.SelectMany(p => p.Blobs).Select(b => b.BlobId).ToHashSet();
        return version.Blobs.All(b => held.Contains(b.BlobId));
    }

    /// <summary>Replaces (or removes, or adds) one object version of <paramref name="bucket"/>, keeping the per-replica object counts.</summary>
    private MetadataState Replace(long index, BucketState bucket, ObjectVersion? removed, ObjectVersion? added, ImmutableSortedDictionary<string, MultipartUpload> uploads)
    {
        ObjectIndex objects = bucket.Objects;
        ImmutableDictionary<string, long> counts = ObjectsByReplica;
        if (removed is not null)
        {
            objects = objects.Remove(removed.Key);
            counts = Count(counts, removed.Replicas, -1);
        }

        if (added is not null)
        {
            objects = objects.SetItem(added);
            counts = Count(counts, added.Replicas, +1);
        }

        return this with
        {
            LastAppliedIndex = index,
            Buckets = Buckets.SetItem(bucket.Info.Name, bucket with { Objects = objects, Uploads = uploads }),
            ObjectsByReplica = counts,
            Changes = Changes.Then(bucket.Info.Name, (removed ?? added)!.Key, removed),
        };
    }

    private static ImmutableDictionary<string, long> Count(ImmutableDictionary<string, long> counts, IEnumerable<string> replicas, int delta)
    {
        foreach (string replica in replicas)
        {
            long count = counts.GetValueOrDefault(replica) + delta;
            counts = count == 0 ? counts.Remove(replica) : counts.SetItem(replica, count);
        }

        return counts;
    }

    /// <summary>Applies <paramref name="change"/> to one bucket; a no-op (bar the index) when the bucket does not exist.</summary>
    private MetadataState WithBucket(long index, string bucket, Func<BucketState, BucketState> change) =>
        With(index, Members, Buckets.TryGetValue(bucket, out BucketState? state) ? Buckets.SetItem(bucket, change(state)) : Buckets);

    private MetadataState With(long index, ImmutableSortedDictionary<string, MemberRecord> members, ImmutableSortedDictionary<string, BucketState> buckets) =>
        this with { LastAppliedIndex = index, Members = members, Buckets = buckets };

    private ImmutableSortedDictionary<string, MemberRecord> AddOrReplace(AddMember add, long index)
    {
        // A node that reuses another member's cluster endpoint replaces it: Raft knows members by endpoint.
        ImmutableSortedDictionary<string, MemberRecord> members = Members;
        foreach (MemberRecord existing in Members.Values)
        {
            if (existing.NodeId != add.NodeId && existing.ClusterEndPoint == add.ClusterEndPoint)
            {
                members = members.Remove(existing.NodeId);
            }
        }

        long joinedAt = Members.TryGetValue(add.NodeId, out MemberRecord? previous) && previous.Uuid == add.Uuid
            ? previous.JoinedAtIndex
            : index;
        MemberState state = previous is not null && previous.Uuid == add.Uuid ? previous.State : MemberState.Active;
        return members.SetItem(add.NodeId, new MemberRecord(add.NodeId, add.ClusterEndPoint, add.Uuid, joinedAt, state));
    }
}
