// Owns: the instance name this node's advert is registered under, and when a collision means the
// name belongs to someone else. avahi 0.8 reports a collision for its own echo as well as for a
// rival: a probe it queued with the old TXT goes out after an UpdateServiceTxt, comes back through
// the multicast loop, and is taken for another host's record (avahi/avahi#654). A rival collides
// every time the name is probed; an echo does not come back once the TXT holds still. So the first
// collision registers the same name again, and only a second one in a row, before the name was
// ever established, takes avahi's alternative ("o3storage on host #2").
// Pure: the publisher tells it what avahi reported.
namespace O3Storage.Provisioning.Avahi;

internal sealed class AdvertName(string preferred)
{
    private int _collisionsInARow;

    public string Current { get; private set; } = preferred;

    /// <summary>avahi withdrew the registration as a collision. True: the name is someone else's, take another.</summary>
    public bool Collided() => ++_collisionsInARow > 1;

    /// <summary>avahi finished probing the name: it is ours, and a later collision starts the count again.</summary>
    public void Established() => _collisionsInARow = 0;

    /// <summary>Registers under <paramref name="alternative"/> from now on (a fresh name, with a fresh count).</summary>
    public void Rename(string alternative)
    {
        ArgumentException.ThrowIfNullOrEmpty(alternative);
        Current = alternative;
        _collisionsInARow = 0;
    }
}
