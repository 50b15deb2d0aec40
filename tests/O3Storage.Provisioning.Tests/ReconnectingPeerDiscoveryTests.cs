using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

public sealed class ReconnectingPeerDiscoveryTests
{
    private sealed class Client(int number, List<string> log) : IPeerDiscovery
    {
        public bool Broken { get; set; }

        public Task AdvertiseAsync(PeerAdvert advert, CancellationToken token)
        {
            log.Add($"advertise on client {number}");
            return Broken ? throw new Avahi.AvahiException("avahi-daemon restarted; reconnecting") : Task.CompletedTask;
        }

        public Task<IReadOnlyList<PeerAdvert>> LookAsync(CancellationToken token) => Task.FromResult<IReadOnlyList<PeerAdvert>>([]);

        public void Dispose() => log.Add($"dispose client {number}");
    }

    [Fact]
    public async Task ADaemonThatRestarted_GetsANewClient_OnTheNextCall_AndTheFailureIsReported()
    {
        var log = new List<string>();
        var clients = new List<Client>();
        bool daemonUp = false;
        using var lan = new ReconnectingPeerDiscovery(_ =>
        {
            if (!daemonUp)
            {
                throw new Avahi.AvahiException("cannot reach the D-Bus system bus; is dbus running?");
            }

            var client = new Client(clients.Count + 1, log);
            clients.Add(client);
            return Task.FromResult<IPeerDiscovery>(client);
        });
        var advert = new PeerAdvert("10.0.0.1:8080", "home", PeerState.Member, null);

        // No daemon yet: the failure reaches the caller, nothing is kept.
        await Assert.ThrowsAsync<Avahi.AvahiException>(() => lan.AdvertiseAsync(advert, default));
        Assert.Equal(0, lan.Connections);

        daemonUp = true;
        await lan.AdvertiseAsync(advert, default);
        await lan.AdvertiseAsync(advert, default);
        Assert.Equal(1, lan.Connections);

        clients[0].Broken = true;
        PeerDiscoveryException e = await Assert.ThrowsAnyAsync<PeerDiscoveryException>(() => lan.AdvertiseAsync(advert, default));
        Assert.Equal("avahi-daemon restarted; reconnecting", e.Message);
        await lan.AdvertiseAsync(advert, default);
        Assert.Equal(2, lan.Connections);
        Assert.Equal(["advertise on client 1", "advertise on client 1", "advertise on client 1", "dispose client 1", "advertise on client 2"], log);
    }
}
