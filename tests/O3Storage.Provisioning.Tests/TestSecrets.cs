using System.Collections.Concurrent;

namespace O3Storage.Provisioning.Tests;

/// <summary>Each (token, cluster) derived once per test run: the real derivation is slow on purpose.</summary>
internal static class TestSecrets
{
    private static readonly ConcurrentDictionary<(string Token, string Cluster), ClusterSecret> s_secrets = new();

    public static ClusterSecret Of(string token, string cluster) => s_secrets.GetOrAdd((token, cluster), key => ClusterSecret.FromToken(key.Token, key.Cluster));

    public static PeerAdvert Sign(string token, PeerAdvert advert) => Of(token, advert.ClusterName).Sign(advert);
}
