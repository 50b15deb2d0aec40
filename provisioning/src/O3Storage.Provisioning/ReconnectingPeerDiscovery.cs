// Owns: a discovery client that survives its mDNS daemon: any PeerDiscoveryException drops the
// current client (avahi restarted, its browser failed, the bus went away), and the next call makes a
// new one through the factory. The failure itself still reaches the caller, which reports it and
// retries on its next round.
// Assumes: one caller at a time (the discovery loop, then the member advertiser).
namespace O3Storage.Provisioning;

public sealed class ReconnectingPeerDiscovery(Func<CancellationToken, Task<IPeerDiscovery>> connect) : IPeerDiscovery
{
    private IPeerDiscovery? _current;

    /// <summary>How many clients were made so far (1 after the first call that connected).</summary>
    public int Connections { get; private set; }

    public Task AdvertiseAsync(PeerAdvert advert, CancellationToken token) =>
        UseAsync(async lan =>
        {
            await lan.AdvertiseAsync(advert, token).ConfigureAwait(false);
            return true;
        }, token);

    public Task<IReadOnlyList<PeerAdvert>> LookAsync(CancellationToken token) => UseAsync(lan => lan.LookAsync(token), token);

    public void Dispose()
    {
        _current?.Dispose();
        _current = null;
    }

    private async Task<T> UseAsync<T>(Func<IPeerDiscovery, Task<T>> use, CancellationToken token)
    {
        if (_current is null)
        {
            _current = await connect(token).ConfigureAwait(false);
            Connections++;
        }

        IPeerDiscovery current = _current;
        try
        {
            return await use(current).ConfigureAwait(false);
        }
        catch (PeerDiscoveryException)
        {
            _current = null;
            current.Dispose();
            throw;
        }
    }
}
