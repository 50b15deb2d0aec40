// Owns: one service registration in avahi (an EntryGroup) and keeping it registered: first
// registration, TXT updates in place, a name collision (pick avahi's alternative name and register
// again, as avahi's client-publish-service example does), and the daemon's own host-name collision
// or restart (reset, then register again once the server is RUNNING).
// Assumes: calls are serialized by the caller or by _gate; signals arrive on the connection's thread
// and only mark work to do, which the next PublishAsync (the discovery loop calls it every second)
// carries out.
using Tmds.DBus.Protocol;

namespace O3Storage.Provisioning.Avahi;

internal sealed class AvahiPublisher : IDisposable
{
    private const int GroupCollision = 3;
    private const int GroupFailure = 4;

    private readonly AvahiBus _bus;
    private readonly string _type;
    private readonly ushort _port;
    private readonly Action<string> _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ObjectPath? _group;
    private IDisposable? _groupWatch;
    private IDisposable? _serverWatch;
    private IReadOnlyList<string>? _publishedTxt;
    private volatile bool _mustRegister = true;
    private volatile bool _collided;

    public AvahiPublisher(AvahiBus bus, string type, string name, ushort port, Action<string> log)
    {
        _bus = bus;
        _type = type;
        _port = port;
        _log = log;
        Name = name;
    }

    /// <summary>The instance name in use (it changes after a collision: "name #2").</summary>
    public string Name { get; private set; }

    public async Task PublishAsync(IReadOnlyList<string> txt, CancellationToken token)
    {
        await _gate.WaitAsync(token).ConfigureAwait(false);
        try
        {
            _serverWatch ??= await _bus.WatchAsync(
                new MatchRule { Type = MessageType.Signal, Sender = AvahiBus.Service, Interface = AvahiBus.ServerInterface, Member = "StateChanged", Path = "/" },
                static (Message m, object? _) => m.GetBodyReader().ReadInt32(),
                (Notification<int> n) =>
                {
                    if (n.HasValue && n.Value != AvahiBus.ServerRunning)
                    {
                        // The host name collided or the daemon is re-registering: our records are gone.
                        _mustRegister = true;
                    }
                }).ConfigureAwait(false);

            if (await _bus.GetStateAsync().ConfigureAwait(false) != AvahiBus.ServerRunning)
            {
                _mustRegister = true;
                return; // The next call registers, once avahi has settled its host name.
            }

            if (_group is null)
            {
                ObjectPath group = await _bus.EntryGroupNewAsync().ConfigureAwait(false);
                _groupWatch = await _bus.WatchAsync(
                    new MatchRule { Type = MessageType.Signal, Sender = AvahiBus.Service, Interface = AvahiBus.EntryGroupInterface, Member = "StateChanged", Path = group.ToString() },
                    static (Message m, object? _) =>
                    {
                        Reader reader = m.GetBodyReader();
                        return (State: reader.ReadInt32(), Error: reader.ReadString());
                    },
                    (Notification<(int State, string Error)> n) =>
                    {
                        if (!n.HasValue)
                        {
                            return;
                        }

                        (int State, string Error) change = n.Value;
                        if (change.State == GroupCollision)
                        {
                            _collided = true;
                            _mustRegister = true;
                        }
                        else if (change.State == GroupFailure)
                        {
                            _log($"avahi could not register '{Name}': {change.Error}; retrying");
                            _mustRegister = true;
                        }
                    }).ConfigureAwait(false);
                _group = group;
            }

            if (_collided)
            {
                string alternative = await _bus.GetAlternativeServiceNameAsync(Name).ConfigureAwait(false);
                _log($"mDNS name '{Name}' is taken on this network; advertising as '{alternative}'");
                Name = alternative;
                _collided = false;
            }

            // A group avahi forgot (it restarted, or freed it) answers with an error here: then start over.
            if (!_mustRegister && await _bus.GroupStateAsync(_group.Value).ConfigureAwait(false) is GroupFailure)
            {
                _mustRegister = true;
            }

            if (_mustRegister)
            {
                _mustRegister = false;
                await _bus.GroupCallAsync(_group.Value, "Reset").ConfigureAwait(false);
                await _bus.AddServiceAsync(_group.Value, Name, _type, _port, txt).ConfigureAwait(false);
                await _bus.GroupCallAsync(_group.Value, "Commit").ConfigureAwait(false);
                _publishedTxt = txt;
            }
            else if (_publishedTxt is null || !_publishedTxt.SequenceEqual(txt, StringComparer.Ordinal))
            {
                await _bus.UpdateServiceTxtAsync(_group.Value, Name, _type, txt).ConfigureAwait(false);
                _publishedTxt = txt;
            }
        }
        catch (AvahiException e) when (e.ErrorName == "org.freedesktop.Avahi.CollisionError")
        {
            // AddService itself can refuse a name another local service holds.
            _collided = true;
            _mustRegister = true;
        }
        catch (AvahiException)
        {
            // avahi-daemon may have restarted and taken our entry group with it: start from a new one.
            _groupWatch?.Dispose();
            _groupWatch = null;
            _group = null;
            _mustRegister = true;
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _groupWatch?.Dispose();
        _serverWatch?.Dispose();
        _gate.Dispose();
    }
}
