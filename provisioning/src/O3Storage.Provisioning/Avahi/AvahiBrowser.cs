// Owns: what avahi shows of one service type on the LAN: a ServiceBrowser's ItemNew/ItemRemove
// signals kept as a set of instances, each resolved (host, address, port, TXT) again on every
// refresh, so a TXT change a peer announces (discovering -> member, its vote) is seen within one
// refresh. avahi answers resolves from its cache while the records live; a resolve that fails keeps
// the last good answer until the browser says the instance is gone.
// Assumes: the match for the browser's signals is added before the browser exists, so no ItemNew
// is lost to the race avahi's D-Bus API has between ServiceBrowserNew and subscribing.
using Tmds.DBus.Protocol;

namespace O3Storage.Provisioning.Avahi;

internal sealed class AvahiBrowser : IDisposable
{
    private static readonly TimeSpan s_resolveTimeout = TimeSpan.FromSeconds(3);

    /// <summary>At most this many instances are tracked (and resolved each round): a LAN of boards, not of strangers.</summary>
    public const int ItemsMax = 256;

    private readonly AvahiBus _bus;
    private readonly string _type;
    private readonly Action<string> _log;
    private readonly Lock _lock = new();
    private readonly Dictionary<BrowsedService, ResolvedService?> _items = [];
    private IDisposable? _watch;
    private volatile string? _failed;

    public AvahiBrowser(AvahiBus bus, string type, Action<string> log)
    {
        _bus = bus;
        _type = type;
        _log = log;
    }

    public async Task StartAsync()
    {
        _watch = await _bus.WatchAsync(
            new MatchRule { Type = MessageType.Signal, Sender = AvahiBus.Service, Interface = AvahiBus.ServiceBrowserInterface },
            static (Message m, object? _) =>
            {
                string member = m.MemberAsString ?? "";
                if (member is not ("ItemNew" or "ItemRemove"))
                {
                    return (member, (BrowsedService?)null);
                }

                Reader reader = m.GetBodyReader();
                var item = new BrowsedService(reader.ReadInt32(), reader.ReadInt32(), reader.ReadString(), reader.ReadString(), reader.ReadString());
                return (member, item);
            },
            (Notification<(string Member, BrowsedService? Item)> n) =>
            {
                if (!n.HasValue)
                {
                    return;
                }

                (string Member, BrowsedService? Item) signal = n.Value;
                lock (_lock)
                {
                    if (signal.Member == "ItemNew" && signal.Item is not null && _items.Count < ItemsMax)
                    {
                        _items.TryAdd(signal.Item, null);
                    }
                    else if (signal.Member == "ItemRemove" && signal.Item is not null)
                    {
                        _items.Remove(signal.Item);
                    }
                    else if (signal.Member == "Failure")
                    {
                        _failed = "avahi's service browser failed";
                    }
                }
            }).ConfigureAwait(false);
        await _bus.ServiceBrowserNewAsync(_type).ConfigureAwait(false);
    }

    /// <summary>Resolves every instance the browser knows (in parallel) and returns the answers.</summary>
    public async Task<IReadOnlyList<ResolvedService>> RefreshAsync(CancellationToken token)
    {
        if (_failed is { } failure)
        {
            // The browser is dead; the caller starts over with a new connection and browser.
            throw new AvahiException(failure);
        }

        BrowsedService[] items;
        lock (_lock)
        {
            items = [.. _items.Keys];
        }

        await Task.WhenAll(items.Select(async item =>
        {
            try
            {
                ResolvedService resolved = await _bus.ResolveServiceAsync(item).WaitAsync(s_resolveTimeout, token).ConfigureAwait(false);
                lock (_lock)
                {
                    if (_items.ContainsKey(item))
                    {
                        _items[item] = resolved;
                    }
                }
            }
            catch (Exception e) when (e is AvahiException or TimeoutException)
            {
                // Not resolvable right now (avahi's own timeout, or the peer went quiet): keep the last answer.
            }
        })).ConfigureAwait(false);

        lock (_lock)
        {
            return [.. _items.Values.OfType<ResolvedService>()];
        }
    }

    public void Dispose() => _watch?.Dispose();
}
