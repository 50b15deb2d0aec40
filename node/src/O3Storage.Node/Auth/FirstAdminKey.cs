// Owns: the first admin key of a closed cluster. The node that bootstraps a cluster from its boot
// partition (the image's first boot) makes it once; every member keeps a copy as DATA/first-admin-key
// (`admin:KEY`, mode 600, the node's user only), so the owner reads it on any board with sudo; the
// owner retires it with DELETE /admin/keys/ID once their own admin key is in an api-keys.txt.
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Auth;

internal static class FirstAdminKey
{
    public const string FileName = "first-admin-key";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static string PathIn(string dataDirectory) => Path.Combine(dataDirectory, FileName);

    /// <summary>Makes a new admin key of 256 random bits and writes it to <paramref name="path"/>: its access key id.</summary>
    public static string Make(string path)
    {
        string secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        AtomicFile.Write(path, Encoding.UTF8.GetBytes($"admin:{secret}\n"), OwnerOnly);
        return ApiKeys.DeriveAccessKeyId(secret);
    }

    /// <summary>This node's copy of what the cluster holds as its first admin key.</summary>
    public static void WriteCopy(string path, ClusterKey key) =>
        AtomicFile.Write(path, Encoding.UTF8.GetBytes($"admin:{key.Secret}:{key.AccessKeyId}\n"), OwnerOnly);

    /// <summary>
    /// What this node does about the first admin key, from what the cluster holds and what it has: share
    /// its key (it made it, and the cluster has never held one), keep a copy of the cluster's, or delete
    /// its copy of a retired one.
    /// </summary>
    public static Step Next(ApiKeys? copy, bool copyExists, MetadataState state)
    {
        bool known = state.ApiKeys.TryGetValue(ClusterKey.FirstAdminSource, out ImmutableArray<ClusterKey> held);
        if (!known)
        {
            if (copy is null)
            {
                return Step.None;
            }

            var share = new SetApiKeys(ClusterKey.FirstAdminSource, KeyRing.ToCluster(copy));
            return MetadataLevelException.Allows(state, share) ? new Step.Share(share) : Step.None;
        }

        if (held.IsEmpty)
        {
            return copyExists ? Step.DeleteCopy : Step.None;
        }

        return KeyRing.Same(held, KeyRing.ToCluster(copy)) ? Step.None : new Step.Copy(held[0]);
    }

    internal abstract record Step
    {
        public static readonly Step None = new Nothing();

        public static readonly Step DeleteCopy = new Delete();

        private Step()
        {
        }

        public sealed record Share(SetApiKeys Command) : Step;

        public sealed record Copy(ClusterKey Key) : Step;

        private sealed record Nothing : Step;

        private sealed record Delete : Step;
    }
}
