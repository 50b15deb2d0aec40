// Owns: who may call the node-to-node endpoints that change state (/internal/propose, /internal/blobs):
// a cluster member (by source address: nodes call from their --ip) that, with certificates, calls over
// TLS with one of the cluster's, or else, with authentication on, presents the cluster's admin key as a
// bearer token. Joins are the exception and have their own rules.
using System.Net;
using Microsoft.AspNetCore.Http;
using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;
using O3Storage.Cluster.Security;
using O3Storage.Node.Auth;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Api;

internal static class InternalAuth
{
    /// <summary>
    /// The key internal calls carry when authentication is on and the nodes have no certificates: the
    /// file's first admin key (every node holds the same file). With certificates, none: a member proves
    /// itself with its certificate, and no user's key ever leaves the node.
    /// </summary>
    public static string? Bearer(ApiKeys? keys, ClusterTrust? trust) => trust is not null ? null : keys?.Keys.FirstOrDefault(k => k.IsAdmin)?.Secret;

    /// <summary>How long a node the cluster removed may still fetch blobs: reads it began as a member finish instead of failing.</summary>
    public static readonly TimeSpan RemovedReadGrace = TimeSpan.FromMinutes(1);

    /// <summary>The header a node fetching a snapshot by reference shows its source: the incarnation the reference named.</summary>
    public const string IncarnationHeader = "X-O3-Incarnation";

    /// <summary>
    /// Whether the caller may read the cluster's metadata (a snapshot a leader named by reference): any
    /// node of the cluster, a member or one being caught up to join, which is what the Raft port admits
    /// too. With certificates, a certificate of the cluster naming the address it calls from (checked in
    /// the handshake). Without, a caller that names the cluster's incarnation (which only the reference,
    /// sent over the Raft port, tells a node that has no metadata yet), or holds the admin key, or anyone
    /// when authentication is off.
    /// </summary>
    public static bool MayReadMetadata(NodeContext node, HttpContext http)
    {
        if (node.Raft.Trust is not null)
        {
            return http.Connection.ClientCertificate is not null;
        }

        Guid incarnation = node.Raft.Metadata.IncarnationId;
        return (incarnation != Guid.Empty && Guid.TryParse(http.Request.Headers[IncarnationHeader].ToString(), out Guid shown) && shown == incarnation)
            || HoldsAdminKeyOrOpen(node, http);
    }

    private static bool HoldsAdminKeyOrOpen(NodeContext node, HttpContext http)
    {
        if (node.Keys is null)
        {
            return true;
        }

        string header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && node.Keys.FindBySecret(header[7..]) is { IsAdmin: true };
    }

    /// <param name="allowRecentlyRemoved">A read: also from a node removed less than <see cref="RemovedReadGrace"/> ago.</param>
    public static bool IsAllowed(NodeContext node, HttpContext http, bool allowRecentlyRemoved = false)
    {
        IPAddress? caller = http.Connection.RemoteIpAddress;
        if (caller is null)
        {
            return false;
        }

        caller = caller.IsIPv4MappedToIPv6 ? caller.MapToIPv4() : caller;
        MetadataState metadata = node.Raft.Metadata;
        long recently = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (long)RemovedReadGrace.TotalMilliseconds;
        IEnumerable<string> allowed = allowRecentlyRemoved
            ? metadata.Members.Keys.Concat(metadata.Removed.Values.Where(r => r.RemovedUnixMs > recently).Select(r => r.NodeId))
            : metadata.Members.Keys;
        bool fromMember = allowed.Any(id => NodeAddress.TryParse(id, 0, out NodeAddress member, out _) && member.Ip.Equals(caller));
        if (!fromMember)
        {
            return false;
        }

        // Over TLS, with a certificate of this cluster naming the address it calls from (checked in
        // the handshake, OptionalTls): a plain connection, or one without a certificate, is not a member's.
        return node.Raft.Trust is not null ? http.Connection.ClientCertificate is not null : HoldsAdminKeyOrOpen(node, http);
    }
}
