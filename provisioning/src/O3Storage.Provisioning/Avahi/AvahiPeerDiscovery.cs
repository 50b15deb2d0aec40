// Owns: mDNS discovery for the node through avahi-daemon: the `_o3storage._tcp` registration of this
// node (instance name "o3storage on <host>", port = API port, the advert in TXT) and the adverts of
// every instance the browser resolves. Adverts are hints; nothing here is trusted.
// Assumes: avahi-daemon runs on the system bus (the image's only mDNS stack).
namespace O3Storage.Provisioning.Avahi;

public sealed class AvahiPeerDiscovery : IPeerDiscovery
{
    private readonly AvahiBus _bus;
    private readonly AvahiPublisher _publisher;
    private readonly AvahiBrowser _browser;
    private readonly string _softwareVersion;

    private readonly uint _daemonCookie;

    private AvahiPeerDiscovery(AvahiBus bus, AvahiPublisher publisher, AvahiBrowser browser, string softwareVersion, uint daemonCookie)
    {
        _bus = bus;
        _publisher = publisher;
        _browser = browser;
        _softwareVersion = softwareVersion;
        _daemonCookie = daemonCookie;
    }

    /// <summary>The instance name this node advertises under (avahi's alternative after a collision).</summary>
    public string InstanceName => _publisher.Name;

    /// <param name="busAddress">A D-Bus address, or null for the system bus.</param>
    /// <param name="apiPort">The port the advert points at (the node's API).</param>
    /// <param name="log">Where warnings go (name collisions, avahi failures).</param>
    public static async Task<AvahiPeerDiscovery> StartAsync(string? busAddress, ushort apiPort, string softwareVersion, Action<string> log, CancellationToken token)
    {
        AvahiBus bus = await AvahiBus.ConnectAsync(busAddress, token).ConfigureAwait(false);
        try
        {
            uint cookie = await bus.GetLocalServiceCookieAsync().ConfigureAwait(false);
            string host = (await bus.GetHostNameFqdnAsync().ConfigureAwait(false)).Split('.')[0];
            var publisher = new AvahiPublisher(bus, AdvertTxt.ServiceType, $"o3storage on {host}", apiPort, log);
            var browser = new AvahiBrowser(bus, AdvertTxt.ServiceType, log);
            await browser.StartAsync().ConfigureAwait(false);
            return new AvahiPeerDiscovery(bus, publisher, browser, softwareVersion, cookie);
        }
        catch (Exception)
        {
            bus.Dispose();
            throw;
        }
    }

    public async Task AdvertiseAsync(PeerAdvert advert, CancellationToken token)
    {
        await EnsureSameDaemonAsync().ConfigureAwait(false);
        await _publisher.PublishAsync(AdvertTxt.Encode(advert, _softwareVersion), token).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<PeerAdvert>> LookAsync(CancellationToken token)
    {
        await EnsureSameDaemonAsync().ConfigureAwait(false);
        IReadOnlyList<ResolvedService> services = await _browser.RefreshAsync(token).ConfigureAwait(false);
        return [.. services.Select(s => AdvertTxt.TryDecode(s.Txt)).OfType<PeerAdvert>()];
    }

    /// <summary>avahi-daemon restarted: our browser and entry group died with it, so this client is done (ReconnectingPeerDiscovery makes a new one).</summary>
    private async Task EnsureSameDaemonAsync()
    {
        if (await _bus.GetLocalServiceCookieAsync().ConfigureAwait(false) != _daemonCookie)
        {
            throw new AvahiException("avahi-daemon restarted; reconnecting");
        }
    }

    public void Dispose()
    {
        _browser.Dispose();
        _publisher.Dispose();
        _bus.Dispose();
    }
}
