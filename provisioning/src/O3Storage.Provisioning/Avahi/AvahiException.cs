namespace O3Storage.Provisioning.Avahi;

/// <summary>avahi-daemon or the bus could not do what was asked; <see cref="ErrorName"/> is avahi's D-Bus error, if it sent one.</summary>
public sealed class AvahiException(string message, string? errorName = null) : PeerDiscoveryException(message)
{
    public string? ErrorName { get; } = errorName;
}
