// Owns: one service registration in avahi (an EntryGroup) and keeping it registered: first
// registration, TXT updates in place, a name collision (AdvertName decides whether it is a rival's
// name or avahi's own echo; a rival's is left for avahi's alternative name, as avahi's
// client-publish-service example does), and the daemon's own host-name collision or restart (reset,
// then register again once the server is RUNNING).
// A TXT change waits until avahi has finished probing the registration: a probe avahi queued with
// the old TXT and sent after the change comes back through the multicast loop as a "conflicting
// probe", and avahi withdraws the service (avahi/avahi#654; seen as a board that renamed itself to
// "o3storage on host #2" with no rival on the LAN).
// Assumes: calls are serialized by the caller or by _gate; signals arrive on the connection's thread
// and only mark work to do, which the next PublishAsync (the discovery loop calls it every second)
// carries out.
using Tmds.DBus.Protocol;

namespace O3Storage.Provisioning.Avahi;

internal sealed class AvahiPublisher : IDisposable
{
    // AvahiEntryGroupState.
    private const int GroupUncommitted = 0;
    private const int GroupRegistering = 1;
    private const int GroupEstablished = 2;
    private const int GroupCollision = 3;
    private const int GroupFailure = 4;

    /// <summary>How long a TXT change waits for avahi to finish probing (about a second; longer on a slow board) before it is left for the next call.</summary>
    private static readonly TimeSpan s_probingWait = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_probingPoll = TimeSpan.FromMilliseconds(100);

    private readonly AvahiBus _bus;
    private readonly string _type;
    private readonly ushort _port;
    private readonly Action<string> _log;
    private readonly AdvertName _name;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ObjectPath? _group;
    private IDisposable? _groupWatch;
    private IDisposable? _serverWatch;
    private IReadOnlyList<string>? _publishedTxt;
    // Marked by avahi's signals (on the connection's thread), taken by PublishAsync with
    // Interlocked.Exchange: a signal that arrives while a call runs is kept for the next call.
    private int _mustRegister = 1;
    private int _collided;
    private int _established;

    public AvahiPublisher(AvahiBus bus, string type, string name, ushort port, Action<string> log)
    {
        _bus = bus;
        _type = type;
        _port = port;
        _log = log;
        _name = new AdvertName(name);
    }

    /// <summary>The instance name in use (it changes when a rival holds it: "name #2").</summary>
    public string Name => _name.Current;

    public async Task PublishAsync(IReadOnlyList<string> txt, CancellationToken token)
    {
        await _gate.WaitAsync(token).ConfigureAwait(false);
        bool mustRegister = false;
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
                        Volatile.Write(ref _mustRegister, 1);
                    }
                }).ConfigureAwait(false);

            if (await _bus.GetStateAsync().ConfigureAwait(false) != AvahiBus.ServerRunning)
            {
                Volatile.Write(ref _mustRegister, 1);
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
                            Volatile.Write(ref _collided, 1);
                        }
                        else if (change.State == GroupFailure)
                        {
                            _log($"avahi could not register '{Name}': {change.Error}; retrying");
                            Volatile.Write(ref _mustRegister, 1);
                        }
                        else if (change.State == GroupEstablished)
                        {
                            Volatile.Write(ref _established, 1);
                        }
                    }).ConfigureAwait(false);
                _group = group;
            }

            mustRegister = Interlocked.Exchange(ref _mustRegister, 0) == 1;
            bool collided = Interlocked.Exchange(ref _collided, 0) == 1;
            bool established = Interlocked.Exchange(ref _established, 0) == 1;
            int state = mustRegister ? GroupUncommitted : await _bus.GroupStateAsync(_group.Value).ConfigureAwait(false);
            switch (state)
            {
                case GroupCollision:
                    collided = true; // the signal may still be on its way
                    break;
                case GroupFailure:
                case GroupUncommitted:
                    // A group avahi failed, or one a reset left empty (the call after it threw): start over.
                    mustRegister = true;
                    break;
                case GroupEstablished:
                    established = true;
                    break;
            }

            if (established)
            {
                _name.Established();
            }

            if (collided)
            {
                mustRegister = true;
                if (_name.Collided())
                {
                    string alternative = await _bus.GetAlternativeServiceNameAsync(Name).ConfigureAwait(false);
                    _log($"mDNS name '{Name}' is taken on this network; advertising as '{alternative}'");
                    _name.Rename(alternative);
                }
                else
                {
                    _log($"mDNS name '{Name}' collided; registering it again under the same name (avahi can take its own echo for a rival's record; a second collision in a row means another service holds the name)");
                }
            }

            if (mustRegister)
            {
                await _bus.GroupCallAsync(_group.Value, "Reset").ConfigureAwait(false);
                await _bus.AddServiceAsync(_group.Value, Name, _type, _port, txt).ConfigureAwait(false);
                await _bus.GroupCallAsync(_group.Value, "Commit").ConfigureAwait(false);
                mustRegister = false;
                _publishedTxt = txt;
            }
            else if (_publishedTxt is null || !_publishedTxt.SequenceEqual(txt, StringComparer.Ordinal))
            {
                if (state == GroupRegistering && !await WaitUntilProbedAsync(_group.Value, token).ConfigureAwait(false))
                {
                    return; // Still probing (or it collided): the next call changes the TXT, or registers again.
                }

                await _bus.UpdateServiceTxtAsync(_group.Value, Name, _type, txt).ConfigureAwait(false);
                _publishedTxt = txt;
            }
        }
        catch (AvahiException e) when (e.ErrorName == "org.freedesktop.Avahi.CollisionError")
        {
            // AddService itself refuses a name another local service holds (or a group of ours the
            // daemon has not freed yet): the next call counts it as a collision.
            Volatile.Write(ref _collided, 1);
        }
        catch (AvahiException)
        {
            // avahi-daemon may have restarted and taken our entry group with it: start from a new one.
            _groupWatch?.Dispose();
            _groupWatch = null;
            _group = null;
            Volatile.Write(ref _mustRegister, 1);
            throw;
        }
        finally
        {
            if (mustRegister)
            {
                // Taken but not done (an error, or the node stopping): the next call registers.
                Volatile.Write(ref _mustRegister, 1);
            }

            _gate.Release();
        }
    }

    /// <summary>Waits (bounded) for avahi to finish probing the group; false if it is still probing or it collided.</summary>
    private async Task<bool> WaitUntilProbedAsync(ObjectPath group, CancellationToken token)
    {
        long deadline = Environment.TickCount64 + (long)s_probingWait.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            await Task.Delay(s_probingPoll, token).ConfigureAwait(false);
            switch (await _bus.GroupStateAsync(group).ConfigureAwait(false))
            {
                case GroupEstablished:
                    _name.Established();
                    return true;
                case GroupRegistering:
                    continue;
                default:
                    return false; // A collision or a failure: the next call sees it and registers again.
            }
        }

        return false;
    }

    public void Dispose()
    {
        _groupWatch?.Dispose();
        _serverWatch?.Dispose();
        _gate.Dispose();
    }
}
