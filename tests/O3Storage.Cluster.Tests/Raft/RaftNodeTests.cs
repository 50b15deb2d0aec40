using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using Microsoft.Extensions.Logging.Abstractions;
using O3Storage.Cluster.Health;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Raft;
using O3Storage.Cluster.Security;
using O3Storage.Cluster.Tests.Security;

namespace O3Storage.Cluster.Tests.Raft;

/// <summary>A real single-member DotNext cluster on loopback with its WAL in a temporary directory.</summary>
public sealed class RaftNodeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-raft-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A node named <paramref name="name"/> with a certificate of <paramref name="ca"/> naming its address (null: no TLS), its refusals reported to <paramref name="refusals"/>.</summary>
    private RaftNodeOptions TlsOptions(string name, IPEndPoint endPoint, bool coldStart, X509Certificate2? ca, System.Collections.Concurrent.ConcurrentQueue<string> refusals) =>
        new(Path.Combine(_directory, name), endPoint, coldStart)
        {
            Trust = ca is null ? null : new ClusterTrust(ca, TestCertificates.Node(ca, endPoint.Address.ToString()), TimeProvider.System),
            TlsRefused = (dialled, reason) => refusals.Enqueue($"{name} {(dialled is null ? "from" : $"to {dialled}")}: {reason}"),
        };

    private static IPEndPoint FreeLoopbackEndPoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return (IPEndPoint)listener.LocalEndpoint;
    }

    [Fact]
    public async Task ALogWhoseDataPagesWereZeroed_IsFoundAtStart_MovedAside_AndTheNodeRefusesVotes()
    {
        IPEndPoint endPoint = FreeLoopbackEndPoint();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await using (RaftNode first = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: true), NullLoggerFactory.Instance, timeout.Token))
        {
            Assert.Equal(new RaftLogHealth(true, RaftLogHealth.Ok, null, null, null), first.LogHealth);
            await first.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            await first.ReplicateAsync(new InitializeCluster(new ClusterSettings("damage-test", 1, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
            for (int i = 0; i < 20; i++)
            {
                await first.ReplicateAsync(new CreateBucket($"bucket-{i}", 7), timeout.Token);
            }

            await first.StopAsync(TimeSpan.FromSeconds(1), timeout.Token);
        }

        // What a card that ignores flushes leaves: the checkpoint names entries whose pages never reached it.
        string data = Path.Combine(RaftNodeOptions.WalDirectory(_directory), "data");
        foreach (string page in Directory.GetFiles(data))
        {
            File.WriteAllBytes(page, new byte[new FileInfo(page).Length]);
        }

        RaftLogHealth log;
        await using (RaftNode second = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: false), NullLoggerFactory.Instance, timeout.Token))
        {
            log = second.LogHealth;
            Assert.Equal(RaftLogHealth.Recovering, log.State);
            Assert.Contains("HashMismatch", log.Detail, StringComparison.Ordinal);
            Assert.True(Directory.Exists(Path.Combine(log.MovedTo!, "wal")), $"the damaged log is kept under {log.MovedTo}");
            Assert.Equal(0, second.Metadata.LastAppliedIndex); // it serves nothing from the damaged state
            Assert.True(second.RefusesVotes); // grants no vote
            Assert.True(second.StaysOutOfElections); // and stands for no election
            Assert.False(second.Recovered.IsCompleted); // alone, no leader can catch it up
        }

        // Restarted before it caught up, its new log passes the check, yet it still must not vote.
        await using RaftNode third = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: false), NullLoggerFactory.Instance, timeout.Token);
        Assert.Equal((RaftLogHealth.Recovering, log.MovedTo), (third.LogHealth.State, third.LogHealth.MovedTo));
        Assert.True(third.RefusesVotes);
        Assert.True(third.StaysOutOfElections);
        Assert.Single(Directory.GetDirectories(_directory, "damaged-*")); // nothing moved aside twice
    }

    [Fact]
    public void ALogFromBeforeChecksums_IsOpenedAsItWasWritten_ANewOneGetsThem()
    {
        string legacy = Path.Combine(_directory, "legacy");
        Directory.CreateDirectory(RaftNodeOptions.WalDirectory(legacy));
        File.WriteAllBytes(Path.Combine(RaftNodeOptions.WalDirectory(legacy), "checkpoint"), new byte[20]);
        Assert.False(RaftLogFormat.Prepare(legacy));
        Assert.False(File.Exists(Path.Combine(legacy, "wal-format")));

        string fresh = Path.Combine(_directory, "fresh");
        Assert.True(RaftLogFormat.Prepare(fresh));
        Assert.Equal("xxhash64\n", File.ReadAllText(Path.Combine(fresh, "wal-format")));
        Assert.True(RaftLogFormat.Prepare(fresh)); // and stays so

        File.WriteAllText(Path.Combine(fresh, "wal-format"), "sha3\n");
        Assert.Contains("sha3", Assert.Throws<InvalidDataException>(() => RaftLogFormat.Prepare(fresh)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ColdStart_ThenRestart_StateSurvivesThroughSnapshotAndLog()
    {
        IPEndPoint endPoint = FreeLoopbackEndPoint();
        var settings = new ClusterSettings("restart-test", 2, ConsistencyLevel.Eventual);
        var uuid = Guid.NewGuid();
        int commands = MetadataStateMachine.SnapshotIntervalEntries + 100;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        long appliedBeforeStop;
        // With names made durable (here a no-op fsync): the pages made ahead must not disturb the log or its restart.
        await using (RaftNode first = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: true) { FsyncDirectory = _ => { } }, NullLoggerFactory.Instance, timeout.Token))
        {
            await first.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            Assert.Equal(NodeRole.Leader, first.Role);
            await first.ReplicateAsync(new InitializeCluster(settings, Guid.NewGuid()), timeout.Token);
            await first.AddMemberAsync("127.0.0.1:1", endPoint, uuid, timeout.Token);
            for (int i = 0; i < commands; i++)
            {
                await first.ReplicateAsync(new RemoveMember($"gone-{i}:1", 7), timeout.Token);
            }

            appliedBeforeStop = first.Metadata.LastAppliedIndex;
            await first.StopAsync(TimeSpan.FromSeconds(1), timeout.Token);
        }

        Assert.NotEmpty(Directory.GetFiles(RaftNodeOptions.SnapshotDirectory(_directory), "*", SearchOption.AllDirectories));
        Assert.True(File.Exists(RaftNodeOptions.MembersFile(_directory)));

        await using RaftNode second = await RaftNode.StartAsync(new RaftNodeOptions(_directory, endPoint, ColdStart: false) { FsyncDirectory = _ => { } }, NullLoggerFactory.Instance, timeout.Token);
        Assert.Equal(RaftLogHealth.Ok, second.LogHealth.State);
        await second.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
        await second.ReadBarrierAsync(timeout.Token);

        Assert.True(second.IsMember);
        Assert.Equal(settings, second.Metadata.Settings);
        Assert.Equal(uuid, second.Metadata.Members["127.0.0.1:1"].Uuid);
        Assert.True(second.Metadata.LastAppliedIndex >= appliedBeforeStop, $"applied {second.Metadata.LastAppliedIndex} < {appliedBeforeStop} before restart");
        Assert.Equal([endPoint], second.ConfigurationMembers);
    }

    /// <summary>
    /// A member that joins after the leader's last snapshot gets it by reference through DotNext's
    /// InstallSnapshot and fetches it itself, taking longer than the Raft request timeout (2 s) allows a
    /// request: the join completes, and its reads wait until the snapshot is there. A snapshot sent whole
    /// must arrive, installed, within that timeout, which a large one (a gigabyte at 5 million objects) never did.
    /// </summary>
    [Fact]
    public async Task AJoinerBehindTheLastSnapshot_FetchesItByReference_SlowerThanARaftRequestMayTake()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        IPEndPoint first = FreeLoopbackEndPoint();
        IPEndPoint second = FreeLoopbackEndPoint();
        RaftNode? source = null;
        int fetches = 0;
        var slow = new DelegateFetcher(async (reference, read, token) =>
        {
            Interlocked.Increment(ref fetches);
            await Task.Delay(TimeSpan.FromSeconds(3), token);
            (FileStream stream, _) = source!.OpenSnapshot(reference.Index) ?? throw new IOException("none that new");
            await using (stream)
            {
                await read(stream, token);
            }
        });
        await using RaftNode leader = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, "1"), first, ColdStart: true) { SnapshotFetcher = slow, NodeId = "127.0.0.1:1" }, NullLoggerFactory.Instance, timeout.Token);
        source = leader;
        await leader.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
        await leader.ReplicateAsync(new InitializeCluster(new ClusterSettings("reference-test", 2, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
        await leader.ReplicateAsync(new SetClusterLevel(MetadataCodec.SnapshotReferenceLevel), timeout.Token);
        await leader.AddMemberAsync("127.0.0.1:1", first, Guid.NewGuid(), timeout.Token);
        await leader.ReplicateAsync(new CreateBucket("b", 1), timeout.Token);
        for (int i = 0; i < MetadataStateMachine.SnapshotIntervalEntries; i += 64)
        {
            await leader.ReplicateAsync(new Batch([.. Enumerable.Range(i, 64).Select(k => (MetadataCommand)new PutObject("b", new ObjectVersion($"k{k:D5}", 0, 1, "\"e\"", "t", 1, [], [new BlobRef((ulong)k + 1, 1, 0)], ["127.0.0.1:1"])))]), timeout.Token);
        }

        for (int i = 0; i < MetadataStateMachine.SnapshotIntervalEntries && leader.OpenSnapshot(1) is null; i++)
        {
            await leader.ReplicateAsync(new RemoveMember($"gone-{i}:1", 7), timeout.Token);
        }

        (FileStream snapshot, long snapshotIndex) = leader.OpenSnapshot(1)!.Value;
        await snapshot.DisposeAsync();

        await using RaftNode joiner = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, "2"), second, ColdStart: false) { SnapshotFetcher = slow, NodeId = "127.0.0.1:2" }, NullLoggerFactory.Instance, timeout.Token);
        await leader.AddMemberAsync("127.0.0.1:2", second, Guid.NewGuid(), timeout.Token);
        await leader.ReplicateAsync(new CreateBucket("after-the-join", 2), timeout.Token);
        await joiner.ReadBarrierAsync(timeout.Token);

        Assert.Equal(1, fetches);
        Assert.True(joiner.Metadata.LastAppliedIndex > snapshotIndex);
        Assert.Equal(MetadataStateMachine.SnapshotIntervalEntries, joiner.Metadata.Buckets["b"].Objects.Count);
        Assert.True(joiner.Metadata.Buckets.ContainsKey("after-the-join"));
        Assert.True(joiner.Metadata.Members.ContainsKey("127.0.0.1:2"));
    }

    private sealed class DelegateFetcher(Func<SnapshotReference, Func<Stream, CancellationToken, Task>, CancellationToken, Task> fetch) : ISnapshotFetcher
    {
        public Task FetchAsync(SnapshotReference reference, Func<Stream, CancellationToken, Task> read, CancellationToken token) => fetch(reference, read, token);

        public void Installed(SnapshotReference reference, long appliedIndex, TimeSpan decoding, long heldBack, TimeSpan applying)
        {
        }
    }

    /// <summary>
    /// Mutual TLS on the Raft port: members with certificates of the cluster's CA form a cluster and
    /// replicate; a node with another CA's certificate is never caught up or added (both ends refuse the
    /// handshake, and the leader says why); a stranger speaking plain TCP is cut off at the handshake and
    /// changes nothing.
    /// </summary>
    [Fact]
    public async Task MutualTls_MembersOfTheCa_Replicate_AnotherCasNodeIsNeverAdded_PlainTcpIsCutOff()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using X509Certificate2 authority = TestCertificates.Authority("o3 raft CA");
        using X509Certificate2 stranger = TestCertificates.Authority("stranger CA");
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<string>();
        RaftNodeOptions Options(string name, IPEndPoint endPoint, bool coldStart, X509Certificate2 ca) => TlsOptions(name, endPoint, coldStart, ca, refusals);

        IPEndPoint first = FreeLoopbackEndPoint();
        IPEndPoint second = FreeLoopbackEndPoint();
        IPEndPoint rogue = FreeLoopbackEndPoint();
        await using RaftNode leader = await RaftNode.StartAsync(Options("1", first, coldStart: true, authority), NullLoggerFactory.Instance, timeout.Token);
        await leader.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
        await leader.ReplicateAsync(new InitializeCluster(new ClusterSettings("tls-test", 2, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
        await leader.AddMemberAsync("127.0.0.1:1", first, Guid.NewGuid(), timeout.Token);
        await using RaftNode follower = await RaftNode.StartAsync(Options("2", second, coldStart: false, authority), NullLoggerFactory.Instance, timeout.Token);
        await leader.AddMemberAsync("127.0.0.1:2", second, Guid.NewGuid(), timeout.Token);
        await leader.ReplicateAsync(new CreateBucket("over-tls", 7), timeout.Token);
        await follower.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
        await follower.ReadBarrierAsync(timeout.Token);
        Assert.True(follower.Metadata.Buckets.ContainsKey("over-tls"));
        Assert.Empty(refusals);
        long term = leader.Term;

        // Another CA's node: never caught up, never a member.
        await using (RaftNode outsider = await RaftNode.StartAsync(Options("3", rogue, coldStart: false, stranger), NullLoggerFactory.Instance, timeout.Token))
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            attempt.CancelAfter(TimeSpan.FromSeconds(10));
            MembershipChangeException refused = await Assert.ThrowsAsync<MembershipChangeException>(() => leader.AddMemberAsync("127.0.0.1:3", rogue, Guid.NewGuid(), attempt.Token));
            Assert.Contains($"its Raft port was refused: its certificate (CN=127.0.0.1, issued by CN=stranger CA", refused.Message, StringComparison.Ordinal);
            Assert.Null(outsider.Metadata.Settings);
        }

        Assert.DoesNotContain(rogue, leader.ConfigurationMembers);
        Assert.Contains(refusals, r => r.StartsWith($"1 to {rogue}: its certificate (CN=127.0.0.1, issued by CN=stranger CA", StringComparison.Ordinal) && r.Contains("is not issued by this cluster's CA (CN=o3 raft CA)", StringComparison.Ordinal));

        // Plain TCP with bytes that are not a TLS handshake: the connection is closed, nothing changes.
        using (var plain = new TcpClient())
        {
            await plain.ConnectAsync(first, timeout.Token);
            NetworkStream stream = plain.GetStream();
            await stream.WriteAsync(new byte[] { 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x00 }, timeout.Token);
            var buffer = new byte[64];
            using var read = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
            read.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                Assert.Equal(0, await stream.ReadAsync(buffer, read.Token));
            }
            catch (IOException)
            {
                // reset instead of closed: cut off all the same
            }
        }

        await leader.ReplicateAsync(new CreateBucket("after-the-strangers", 7), timeout.Token);
        Assert.True(leader.IsLeader);
        Assert.Equal(term, leader.Term);
        Assert.Equal(new HashSet<IPEndPoint> { first, second }, leader.ConfigurationMembers.ToHashSet());
    }

    /// <summary>
    /// Rogue peers that speak DotNext's Raft protocol themselves, with a certificate of another CA and with
    /// none (plain TCP): a candidate whose membership names the cluster's nodes asks them for votes at ever
    /// higher terms, and a leader of its own cluster tries to append its log to a member (catching up a
    /// node it adds, which is where an install-snapshot would go too). Every message comes after a TLS
    /// handshake the members refuse, so none is read: the term, the membership and the metadata stay as
    /// they were, and the refusals are reported.
    /// </summary>
    [Fact]
    public async Task RogueRaftPeers_VoteRequestsAndAppendEntries_WithAnotherCaOrWithoutTls_ChangeNothing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using X509Certificate2 authority = TestCertificates.Authority("o3 raft CA");
        using X509Certificate2 stranger = TestCertificates.Authority("o3 raft CA"); // the same name, another key
        var refusals = new System.Collections.Concurrent.ConcurrentQueue<string>();
        RaftNodeOptions Options(string name, IPEndPoint endPoint, bool coldStart, X509Certificate2? ca) => TlsOptions(name, endPoint, coldStart, ca, refusals);

        IPEndPoint first = FreeLoopbackEndPoint();
        IPEndPoint second = FreeLoopbackEndPoint();
        await using RaftNode leader = await RaftNode.StartAsync(Options("1", first, coldStart: true, authority), NullLoggerFactory.Instance, timeout.Token);
        await leader.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
        await leader.ReplicateAsync(new InitializeCluster(new ClusterSettings("rogue-test", 2, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
        await leader.AddMemberAsync("127.0.0.1:1", first, Guid.NewGuid(), timeout.Token);
        await using RaftNode follower = await RaftNode.StartAsync(Options("2", second, coldStart: false, authority), NullLoggerFactory.Instance, timeout.Token);
        await leader.AddMemberAsync("127.0.0.1:2", second, Guid.NewGuid(), timeout.Token);
        await leader.ReplicateAsync(new CreateBucket("before-the-rogues", 7), timeout.Token);
        long term = leader.Term;
        MetadataState before = leader.Metadata;

        foreach ((string name, X509Certificate2? ca) in new[] { ("another CA", stranger), ("no TLS", (X509Certificate2?)null) })
        {
            // A candidate: its membership names the cluster's two nodes and itself; it times out and asks them for votes.
            IPEndPoint candidate = FreeLoopbackEndPoint();
            string candidateDirectory = Path.Combine(_directory, $"candidate {name}");
            Directory.CreateDirectory(candidateDirectory);
            var storage = new EndPointConfigurationStorage(RaftNodeOptions.MembersFile(candidateDirectory));
            IClusterConfiguration<EndPoint> membership = await ((IClusterConfigurationStorage<EndPoint>)storage).LoadConfigurationAsync(timeout.Token);
            Assert.True(await ((IClusterConfigurationStorage)storage).SaveConfigurationAsync(membership.Add(candidate).Add(first).Add(second), 1, timeout.Token));
            await using (RaftNode rogue = await RaftNode.StartAsync(Options($"candidate {name}", candidate, coldStart: false, ca), NullLoggerFactory.Instance, timeout.Token))
            {
                // Several election timeouts (at most 1 s each): each starts with (pre-)vote requests to both members.
                // With pre-vote, the rogue's term only rises once a majority would vote: it never does.
                int refusedBefore = refusals.Count;
                await Task.Delay(TimeSpan.FromSeconds(4), timeout.Token);
                Assert.True(ca is null || refusals.Count > refusedBefore, $"{name}: the candidate's connections were refused");
            }

            // A leader of its own cluster adding a member: it sends that member its log.
            IPEndPoint other = FreeLoopbackEndPoint();
            await using (RaftNode rogue = await RaftNode.StartAsync(Options($"leader {name}", other, coldStart: true, ca), NullLoggerFactory.Instance, timeout.Token))
            {
                await rogue.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
                await rogue.ReplicateAsync(new InitializeCluster(new ClusterSettings("rogue", 1, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
                await rogue.ReplicateAsync(new DeleteBucket("before-the-rogues"), timeout.Token);
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
                attempt.CancelAfter(TimeSpan.FromSeconds(10));
                await Assert.ThrowsAnyAsync<Exception>(() => rogue.AddMemberAsync("127.0.0.1:1", first, Guid.NewGuid(), attempt.Token));
            }

            Assert.Equal(term, leader.Term);
            Assert.True(leader.IsLeader);
            Assert.Equal(new HashSet<IPEndPoint> { first, second }, leader.ConfigurationMembers.ToHashSet());
            Assert.True(leader.Metadata.Buckets.ContainsKey("before-the-rogues"), $"{name}: the rogue leader's log reached a member");
            Assert.Equal(before.Buckets.Keys.Order(), leader.Metadata.Buckets.Keys.Order());
        }

        Assert.Contains(refusals, r => r.StartsWith("1 from: ", StringComparison.Ordinal) && r.Contains("signed by a different CA with the same name", StringComparison.Ordinal));
        await leader.ReplicateAsync(new CreateBucket("after-the-rogues", 7), timeout.Token);
        await follower.ReadBarrierAsync(timeout.Token);
        Assert.True(follower.Metadata.Buckets.ContainsKey("after-the-rogues"));
        Assert.Equal(term, follower.Term);
    }

    /// <summary>
    /// A new cluster from an existing log (a split, disaster recovery): the old membership file is moved
    /// aside and the node starts alone (ColdStart). Its log still holds the old memberships, and DotNext's log
    /// stores each one again as it applies it at start, once Raft has handed it the storage: the membership
    /// the node starts with must be newer than all of them, or the node follows its old members again and
    /// never elects itself. Whether the replay got there first was a race (the split failed once in eleven
    /// runs); here the replay is made certain by storing the old membership with its own version.
    /// </summary>
    [Fact]
    public async Task ANewClusterFromAnExistingLog_KeepsItsOwnMembership_OverTheOldOnesItsLogReplays_AndStoresLaterOnes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        IPEndPoint first = FreeLoopbackEndPoint();
        IPEndPoint second = FreeLoopbackEndPoint();
        string leaderDirectory = Path.Combine(_directory, "1");
        await using (RaftNode leader = await RaftNode.StartAsync(new RaftNodeOptions(leaderDirectory, first, ColdStart: true), NullLoggerFactory.Instance, timeout.Token))
        {
            await leader.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            await leader.ReplicateAsync(new InitializeCluster(new ClusterSettings("refound-test", 2, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
            await leader.AddMemberAsync("127.0.0.1:1", first, Guid.NewGuid(), timeout.Token);
            await using RaftNode follower = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, "2"), second, ColdStart: false), NullLoggerFactory.Instance, timeout.Token);
            await leader.AddMemberAsync("127.0.0.1:2", second, Guid.NewGuid(), timeout.Token);
            await follower.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            await leader.ReplicateAsync(new CreateBucket("after-the-join", 7), timeout.Token);
            Assert.Equal(2, leader.ConfigurationMembers.Count);
        }

        // What NodeHost does for a --bootstrap that starts a new cluster: the membership aside, a cold start.
        string members = RaftNodeOptions.MembersFile(leaderDirectory);
        string aside = members + ".superseded";
        File.Move(members, aside);
        var old = new EndPointConfigurationStorage(aside);
        IClusterConfiguration<EndPoint> oldMembership = await ((IClusterConfigurationStorage<EndPoint>)old).LoadConfigurationAsync(timeout.Token);
        long oldVersion = BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(aside).AsSpan(0, 8));
        Assert.Equal(2, oldMembership.Members.Count);
        Assert.True(oldVersion > 0);

        IPEndPoint third = FreeLoopbackEndPoint();
        await using (RaftNode refounded = await RaftNode.StartAsync(new RaftNodeOptions(leaderDirectory, first, ColdStart: true), NullLoggerFactory.Instance, timeout.Token))
        {
            await refounded.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            Assert.True(refounded.IsLeader);
            Assert.Equal([first], refounded.ConfigurationMembers);

            // The log's replay of its old membership, as DotNext stores it: refused.
            var replay = new EndPointConfigurationStorage(members);
            Assert.False(await ((IClusterConfigurationStorage)replay).SaveConfigurationAsync(oldMembership, oldVersion, timeout.Token), "an old membership from the log replaced the new cluster's");
            Assert.Equal([first], (await ((IClusterConfigurationStorage<EndPoint>)replay).LoadConfigurationAsync(timeout.Token)).Members);

            // A membership change of the new cluster is stored.
            await refounded.ReplicateAsync(new CreateBucket("in-the-new-cluster", 7), timeout.Token);
            await using RaftNode joiner = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, "3"), third, ColdStart: false), NullLoggerFactory.Instance, timeout.Token);
            await refounded.AddMemberAsync("127.0.0.1:3", third, Guid.NewGuid(), timeout.Token);
            await joiner.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            Assert.Equal(new HashSet<IPEndPoint> { first, third }, refounded.ConfigurationMembers.ToHashSet());
        }

        Assert.Equal(new HashSet<EndPoint> { first, third }, (await ((IClusterConfigurationStorage<EndPoint>)new EndPointConfigurationStorage(members)).LoadConfigurationAsync(timeout.Token)).Members.ToHashSet());
    }

    /// <summary>
    /// A leader whose follower is gone appends the command, cannot commit it, and steps down. DotNext then
    /// throws NotLeaderException, as it does for a node that was never leader; proposing the command again
    /// through the next leader could apply it twice, so the appended case must be told apart. Whether the
    /// leader notices the lost follower before or after the append is a race, so each attempt forms a new
    /// pair; a refusal before the append must carry no inner exception, and one attempt must append.
    /// </summary>
    [Fact]
    public async Task LeadershipLostAfterAppending_IsCommitOutcomeUnknown_NotLeaderOnlyWhenNothingWasAppended()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        bool appended = false;
        for (int attempt = 0; attempt < 5 && !appended; attempt++)
        {
            IPEndPoint first = FreeLoopbackEndPoint();
            IPEndPoint second = FreeLoopbackEndPoint();
            await using RaftNode leader = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, $"{attempt}-1"), first, ColdStart: true), NullLoggerFactory.Instance, timeout.Token);
            await leader.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            await leader.ReplicateAsync(new InitializeCluster(new ClusterSettings("unknown-test", 2, ConsistencyLevel.Eventual), Guid.NewGuid()), timeout.Token);
            await leader.AddMemberAsync("127.0.0.1:1", first, Guid.NewGuid(), timeout.Token);
            await using (RaftNode follower = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, $"{attempt}-2"), second, ColdStart: false), NullLoggerFactory.Instance, timeout.Token))
            {
                await leader.AddMemberAsync("127.0.0.1:2", second, Guid.NewGuid(), timeout.Token);
                await follower.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
                await follower.ReadBarrierAsync(timeout.Token);

                // Never appended: the follower refuses at once, and going through the leader is safe.
                NotLeaderException refused = await Assert.ThrowsAsync<NotLeaderException>(() => follower.ReplicateAsync(new CreateBucket("not-here", 7), timeout.Token));
                Assert.Null(refused.InnerException);
            }

            // The follower is gone: the leader appends, finds no majority and steps down (or noticed first and refuses).
            try
            {
                await leader.ReplicateAsync(new CreateBucket("maybe", 7), timeout.Token);
                Assert.Fail("committed without a majority");
            }
            catch (CommitOutcomeUnknownException unknown)
            {
                Assert.IsType<NotLeaderException>(unknown.InnerException);
                Assert.False(leader.IsLeader);
                appended = true;
            }
            catch (NotLeaderException notLeader)
            {
                Assert.Null(notLeader.InnerException); // with one, it had appended: that must be "unknown"
            }
        }

        Assert.True(appended, "in 5 attempts the leader never appended before it noticed its follower was gone");
    }

    [Fact]
    public async Task TheApplyTrace_RecordsEveryAppliedEntry_InOrder_WithItsTermAndDigest()
    {
        IPEndPoint endPoint = FreeLoopbackEndPoint();
        string path = Path.Combine(_directory, "apply-trace.txt");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        MetadataCommand[] commands = [new InitializeCluster(new ClusterSettings("trace-test", 1, ConsistencyLevel.Strong), Guid.NewGuid()), new CreateBucket("a", 7), new CreateBucket("b", 8)];
        using (var trace = new ApplyTrace(path))
        {
            await using RaftNode node = await RaftNode.StartAsync(new RaftNodeOptions(Path.Combine(_directory, "raft"), endPoint, ColdStart: true) { ApplyTrace = trace }, NullLoggerFactory.Instance, timeout.Token);
            await node.WaitForLeaderAsync(TimeSpan.FromSeconds(10), timeout.Token);
            foreach (MetadataCommand command in commands)
            {
                await node.ReplicateAsync(command, timeout.Token);
            }

            await node.StopAsync(TimeSpan.FromSeconds(1), timeout.Token);
        }

        // A cold-started single member leads in term 0 and hands its state machine only the commands.
        Assert.Equal(commands.Select((c, i) => $"apply {i + 1} 0 {ApplyTrace.Digest(MetadataCodec.Encode(c))}"), File.ReadAllLines(path));
    }
}
