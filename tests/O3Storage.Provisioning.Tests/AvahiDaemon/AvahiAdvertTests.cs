using System.Collections.Concurrent;
using O3Storage.Provisioning.Avahi;

namespace O3Storage.Provisioning.Tests.AvahiDaemon;

/// <summary>
/// This node's advert in a real avahi-daemon, as a peer on the same LAN sees it (avahi-browse on the
/// other host). The first test is the fault behind issue 14: avahi 0.8 mistakes the multicast echo of
/// its own probe for a rival's when the TXT record changes while the service is still being probed
/// (avahi/avahi#654), withdraws the service and reports a collision; a node that believed it renamed
/// itself ("o3storage on host #2") for good.
/// </summary>
public sealed class AvahiAdvertTests(PrivateAvahiLan lan) : IClassFixture<PrivateAvahiLan>
{
    private const string Token = "avahi-test-token";
    private const string NodeId = "198.18.0.1:8080";
    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task TxtChangesWhileTheServiceIsProbed_KeepItsName_AndAPeerSeesTheLastState()
    {
        var warnings = new ConcurrentQueue<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using AvahiPeerDiscovery discovery = await AvahiPeerDiscovery.StartAsync(lan.BusAddress(1), 8080, "test", warnings.Enqueue, timeout.Token);
        string name = discovery.InstanceName;
        Assert.Equal("o3storage on o3avahi-1", name);

        // What a board's first seconds do to its advert (discovering, a vote at once, then member),
        // more often: each change lands somewhere in avahi's probe cycle (a probe is queued with the
        // record of that moment and sent 50 ms later; probes are 250 ms apart). Each change that
        // falls in such a window lets avahi read its own echo as a rival's record, so 20 changes at
        // 40-300 ms intervals hit one with near certainty.
        var random = new Random(14);
        var discovering = new PeerAdvert(NodeId, "home", PeerState.Discovering, null);
        for (int i = 0; i < 20; i++)
        {
            PeerAdvert advert = i % 2 == 0 ? discovering : discovering with { BootstrapVote = $"198.18.0.{1 + (i / 2)}:8080" };
            await discovery.AdvertiseAsync(TestSecrets.Sign(Token, advert), timeout.Token);
            await Task.Delay(random.Next(40, 300), timeout.Token);
        }

        // Then a member, re-asserted as the node does, until the peer sees it (or the bound).
        PeerAdvert member = TestSecrets.Sign(Token, discovering with { State = PeerState.Member });
        IReadOnlyList<(string Name, IReadOnlyList<string> Txt)> seen = [];
        bool sawMember = await EventuallyAsync(async () =>
        {
            await discovery.AdvertiseAsync(member, timeout.Token);
            seen = [.. lan.Browse(2).Where(s => s.Txt.Contains($"node={NodeId}"))];
            return seen.Any(s => s.Txt.Contains("state=member"));
        });

        Assert.True(sawMember, $"the peer never saw the member advert; it saw: {Describe(seen)}; warnings: {string.Join(" | ", warnings)}");
        Assert.Equal(name, discovery.InstanceName);
        Assert.Equal([name], seen.Select(s => s.Name).Distinct());
        // avahi may still take its echo for a rival now and then (its own records can return to
        // probing after an update while the group stays established); the node then registers the
        // same name again, and says so, but never gives the name up.
        Assert.DoesNotContain(warnings, w => w.Contains("taken on this network", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ANameARivalHolds_IsGivenUp_AndAPeerFindsTheNodeByItsIdInTheTxt()
    {
        // The rival is on the other host, as a second board would be: avahi on host 1 learns of it
        // only when its probes are answered, every time.
        using System.Diagnostics.Process rival = lan.Start(2, "avahi-publish", "-s", "o3storage on o3avahi-1", AdvertTxt.ServiceType, "9", "txtvers=1", "cluster=decoy");
        try
        {
            Assert.True(await EventuallyAsync(() => Task.FromResult(lan.Browse(1).Any(s => s.Name == "o3storage on o3avahi-1"))), "host 1 sees the rival's service");
            var warnings = new ConcurrentQueue<string>();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            using AvahiPeerDiscovery discovery = await AvahiPeerDiscovery.StartAsync(lan.BusAddress(1), 8080, "test", warnings.Enqueue, timeout.Token);
            // Another node id than the other test's, whose advert may still be in host 2's cache.
            const string nodeId = "198.18.0.1:8081";
            PeerAdvert member = TestSecrets.Sign(Token, new PeerAdvert(nodeId, "home", PeerState.Member, null));
            IReadOnlyList<(string Name, IReadOnlyList<string> Txt)> seen = [];
            bool found = await EventuallyAsync(async () =>
            {
                await discovery.AdvertiseAsync(member, timeout.Token);
                seen = [.. lan.Browse(2).Where(s => s.Txt.Contains($"node={nodeId}") && s.Txt.Contains("state=member"))];
                return seen.Count > 0;
            });
            Assert.True(found, $"the peer finds the node by the node id in its TXT; warnings: {string.Join(" | ", warnings)}");

            Assert.Equal("o3storage on o3avahi-1 #2", discovery.InstanceName);
            Assert.Equal(["o3storage on o3avahi-1 #2"], seen.Select(s => s.Name).Distinct());
            Assert.Contains("mDNS name 'o3storage on o3avahi-1' is taken on this network; advertising as 'o3storage on o3avahi-1 #2'", warnings);
            Assert.Contains(lan.Browse(2), s => s.Name == "o3storage on o3avahi-1" && s.Txt.Contains("cluster=decoy"));
        }
        finally
        {
            rival.Kill(entireProcessTree: true);
            await rival.WaitForExitAsync();
        }
    }

    /// <summary>Polls <paramref name="condition"/> every half second until it holds (true) or <see cref="s_settle"/> passes (false).</summary>
    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > s_settle)
            {
                return false;
            }

            await Task.Delay(500);
        }

        return true;
    }

    private static string Describe(IEnumerable<(string Name, IReadOnlyList<string> Txt)> seen) =>
        string.Join("; ", seen.Select(s => $"'{s.Name}' [{string.Join(' ', s.Txt)}]"));
}
