// Owns: who may call the node-to-node endpoints that change state (/internal/propose, /internal/blobs):
// a cluster member (by source address: nodes call from their --ip) that, with authentication on,
// presents the cluster's admin key as a bearer token. Joins are the exception and have their own rules.
using System.Net;
using Microsoft.AspNetCore.Http;
using O3Storage.Cluster;
using O3Storage.Node.Auth;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Api;

internal static class InternalAuth
{
    /// <summary>The key internal calls carry when authentication is on: the file's first admin key (every node holds the same file).</summary>
    public static string? Bearer(ApiKeys? keys) => keys?.Keys.FirstOrDefault(k => k.IsAdmin)?.Secret;

    public static bool IsAllowed(NodeContext node, HttpContext http)
    {
        IPAddress? caller = http.Connection.RemoteIpAddress;
        if (caller is null)
        {
            return false;
        }

        caller = caller.IsIPv4MappedToIPv6 ? caller.MapToIPv4() : caller;
        bool fromMember = node.Raft.Metadata.Members.Keys.Any(id => NodeAddress.TryParse(id, 0, out NodeAddress member, out _) && member.Ip.Equals(caller));
        if (!fromMember)
        {
            return false;
        }

        if (node.Keys is null)
        {
            return true;
        }

        string header = http.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) && node.Keys.FindBySecret(header[7..]) is { IsAdmin: true };
    }
}
