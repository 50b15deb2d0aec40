namespace O3Storage.Provisioning;

/// <summary>The LAN could not be used for discovery this round (mDNS daemon down, restarted, refusing); worth retrying.</summary>
public class PeerDiscoveryException(string message) : Exception(message);
