using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

/// <summary>The loop over a shared in-memory LAN: every advert is visible to everyone at once.</summary>
public sealed class DiscoveryLoopTests
{
    private static readonly BootConfig s_config = BootConfig.Default with { ClusterName = "home", JoinTokenValue = "token-for-home", ExpectedNodes = 3 };

    private sealed class SharedLan
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, PeerAdvert> _adverts = [];

        public List<string> Log { get; } = [];

        public void Set(PeerAdvert advert)
        {
            lock (_lock)
            {
                _adverts[advert.NodeId] = advert;
                Log.Add($"{advert.NodeId} {advert.State} vote={advert.BootstrapVote}");
            }
        }

        public IReadOnlyList<PeerAdvert> All()
        {
            lock (_lock)
            {
                return [.. _adverts.Values];
            }
        }
    }

    private sealed class LanPort(SharedLan lan) : IPeerDiscovery
    {
        public Task AdvertiseAsync(PeerAdvert advert, CancellationToken token)
        {
            lan.Set(advert);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<PeerAdvert>> LookAsync(CancellationToken token) => Task.FromResult(lan.All());

        public void Dispose()
        {
        }
    }

    private static DiscoveryLoop Loop(SharedLan lan, string nodeId) =>
        new(new LanPort(lan), nodeId, s_config, TestSecrets.Of(s_config.JoinToken, s_config.ClusterName), TimeProvider.System, TimeSpan.FromMilliseconds(2));

    [Fact]
    public async Task ThreeBoards_OneBootstraps_TheOthersJoinIt_AfterItIsAMember()
    {
        var lan = new SharedLan();
        string[] ids = ["198.18.0.3:8080", "198.18.0.1:8080", "198.18.0.2:8080"];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var votes = new Dictionary<string, string>();
        Task<Decision>[] runs = [.. ids.Select(id =>
        {
            DiscoveryLoop loop = Loop(lan, id);
            return Task.Run(async () =>
            {
                Decision decision = await loop.DecideAsync(null, vote => { lock (votes) { votes[id] = vote; } }, _ => { }, timeout.Token);
                if (decision is Decision.Bootstrap)
                {
                    // What the node does next: bootstrap, then advertise itself a member.
                    await new LanPort(lan).AdvertiseAsync(loop.MemberAdvert, timeout.Token);
                }

                return decision;
            });
        })];
        Decision[] decisions = await Task.WhenAll(runs);

        Assert.IsType<Decision.Bootstrap>(decisions[1]);
        Assert.Equal(["198.18.0.1:8080"], Assert.IsType<Decision.Join>(decisions[0]).Members);
        Assert.Equal(["198.18.0.1:8080"], Assert.IsType<Decision.Join>(decisions[2]).Members);
        Assert.All(ids, id => Assert.Equal("198.18.0.1:8080", votes[id]));
    }

    [Fact]
    public async Task AVote_IsPersisted_BeforeItIsAdvertised()
    {
        var lan = new SharedLan();
        lan.Set(TestSecrets.Sign(s_config.JoinToken, new PeerAdvert("198.18.0.1:8080", "home", PeerState.Discovering, null)));
        lan.Set(TestSecrets.Sign(s_config.JoinToken, new PeerAdvert("198.18.0.2:8080", "home", PeerState.Discovering, null)));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int advertsWhenPersisted = -1;
        Task<Decision> run = Loop(lan, "198.18.0.3:8080").DecideAsync(
            null,
            vote =>
            {
                Assert.Equal("198.18.0.1:8080", vote);
                Assert.DoesNotContain(lan.Log, line => line.StartsWith("198.18.0.3:8080", StringComparison.Ordinal) && line.EndsWith("vote=198.18.0.1:8080", StringComparison.Ordinal));
                advertsWhenPersisted = lan.Log.Count;
            },
            _ => { },
            stop.Token);

        // Board 1 bootstraps; board 3 then joins it.
        while (advertsWhenPersisted < 0)
        {
            await Task.Delay(5, stop.Token);
        }

        lan.Set(TestSecrets.Sign(s_config.JoinToken, new PeerAdvert("198.18.0.1:8080", "home", PeerState.Member, null)));
        Assert.Equal(["198.18.0.1:8080"], Assert.IsType<Decision.Join>(await run).Members);
        Assert.Contains(lan.Log.Skip(advertsWhenPersisted), line => line == "198.18.0.3:8080 Discovering vote=198.18.0.1:8080");
    }

    [Fact]
    public async Task ARestartedBoard_KeepsItsPersistedVote_AndSaysWhoItWaitsFor()
    {
        // It voted for board 1 before restarting; now it sees boards 2 and 3 only (board 1 is off).
        var lan = new SharedLan();
        lan.Set(TestSecrets.Sign(s_config.JoinToken, new PeerAdvert("198.18.0.2:8080", "home", PeerState.Discovering, null)));
        using var stop = new CancellationTokenSource();
        var reports = new List<string>();
        bool persisted = false;
        Task<Decision> run = Loop(lan, "198.18.0.3:8080").DecideAsync("198.18.0.1:8080", _ => persisted = true, r => { lock (reports) { reports.Add(r); } }, stop.Token);
        await Task.Delay(200);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.False(persisted);
        lock (reports)
        {
            Assert.Equal(["waiting for 198.18.0.1:8080 to bootstrap cluster 'home'"], reports);
        }

        Assert.Contains("198.18.0.3:8080 Discovering vote=198.18.0.1:8080", lan.Log);
    }

    [Fact]
    public async Task AnAvahiError_IsReported_AndTheLoopGoesOn()
    {
        var lan = new SharedLan();
        var flaky = new FlakyPort(new LanPort(lan), failures: 3);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var reports = new List<string>();
        lan.Set(TestSecrets.Sign(s_config.JoinToken, new PeerAdvert("198.18.0.1:8080", "home", PeerState.Member, null)));
        var loop = new DiscoveryLoop(flaky, "198.18.0.2:8080", s_config, TestSecrets.Of(s_config.JoinToken, s_config.ClusterName), TimeProvider.System, TimeSpan.FromMilliseconds(2));
        Decision decision = await loop.DecideAsync(null, _ => { }, reports.Add, stop.Token);
        Assert.IsType<Decision.Join>(decision);
        Assert.Equal(["mDNS: avahi AddService: org.freedesktop.Avahi.Error: down"], reports);
    }

    private sealed class FlakyPort(IPeerDiscovery inner, int failures) : IPeerDiscovery
    {
        private int _failures = failures;

        public Task AdvertiseAsync(PeerAdvert advert, CancellationToken token) =>
            _failures-- > 0 ? throw new Avahi.AvahiException("avahi AddService: org.freedesktop.Avahi.Error: down") : inner.AdvertiseAsync(advert, token);

        public Task<IReadOnlyList<PeerAdvert>> LookAsync(CancellationToken token) => inner.LookAsync(token);

        public void Dispose() => inner.Dispose();
    }
}
