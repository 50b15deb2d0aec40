namespace O3Storage.Provisioning;

/// <summary>
/// The LAN as the discovery loop sees it: this node's advert goes out, peers' adverts come in.
/// Avahi over D-Bus in production (<see cref="Avahi.AvahiPeerDiscovery"/>); a simulated LAN in tests.
/// </summary>
public interface IPeerDiscovery : IDisposable
{
    /// <summary>Publishes (or updates in place) this node's advert; idempotent, and repairs a lost registration.</summary>
    Task AdvertiseAsync(PeerAdvert advert, CancellationToken token);

    /// <summary>Every advert of our service type visible now, of any cluster, possibly this node's own.</summary>
    Task<IReadOnlyList<PeerAdvert>> LookAsync(CancellationToken token);
}
