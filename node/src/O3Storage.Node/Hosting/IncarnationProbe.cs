// Owns: deciding, before Raft starts, whether a node with state resumes as the member it was or begins
// anew, by asking other nodes only (pings): whether a --bootstrap starts a new incarnation of the
// cluster from the node's data (disaster recovery, a split), and whether a member started with --peers
// is no longer known to the cluster those peers run (restored from an earlier incarnation's backup).
// Bounded: each probe ends by its own deadline. The caller acts on the answer and logs it.
using O3Storage.Cluster;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Transport;

namespace O3Storage.Node.Hosting;

/// <summary>What a --bootstrap on existing state found: <paramref name="Refound"/> or resume, why (per member, or the one that answered), and how long it asked.</summary>
internal sealed record RefoundVerdict(bool Refound, string Detail, TimeSpan Took);

/// <param name="ping">Pings a node (by node id) on behalf of this one.</param>
/// <param name="time">The clock both probes' deadlines and pauses follow (the system's by default).</param>
internal sealed class IncarnationProbe(Func<string, CancellationToken, Task<PingResponse>> ping, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>How long a --bootstrap on existing state waits for a member of its cluster to answer as one before it starts a new one.</summary>
    public static readonly TimeSpan RefoundProbe = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a member started with --peers waits for peers that refuse connections before it resumes, as any
    /// restart does. As long as a --bootstrap waits for members (<see cref="RefoundProbe"/>): a node started
    /// with --peers moments before the node it names listens (the guide's split and disaster recovery start
    /// them in a row) must not resume its old membership, for that node would then find it answering as a
    /// member and resume too, and no new cluster would be started.
    /// </summary>
    public static readonly TimeSpan PeersDownWait = RefoundProbe;

    private static readonly TimeSpan s_round = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Whether a --bootstrap on a directory with state <paramref name="state"/> starts a new cluster from
    /// it: only when no other member answers as one of the same incarnation within <see cref="RefoundProbe"/>.
    /// A member that answers at all (quorum or not: a cluster coming back from a power cut answers before
    /// it has a leader) means the cluster lives on: a unit file that still says --bootstrap must never
    /// split a cluster. Members that are stopped, still starting, hold no cluster state (joining anew),
    /// or answer as part of another incarnation (started anew, as in a split) do not count; when all
    /// answer as another, it need not wait.
    /// </summary>
    public async Task<RefoundVerdict> ShouldRefoundAsync(MetadataState state, string selfNodeId, CancellationToken token)
    {
        string[] others = [.. state.Members.Keys.Where(id => id != selfNodeId)];
        long started = _time.GetTimestamp();
        if (others.Length == 0)
        {
            return new RefoundVerdict(false, "this node is its only member", _time.GetElapsedTime(started));
        }

        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var movedOn = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            foreach (string other in others.Where(o => !movedOn.Contains(o)))
            {
                try
                {
                    PingResponse answer = await ping(other, token).ConfigureAwait(false);
                    if (answer.Role == PingResponse.RefoundingRole)
                    {
                        seen[other] = "starting a new cluster of its own";
                    }
                    else if (answer.ClusterId is null && answer.Incarnation is null)
                    {
                        // No cluster state at all: it set its state aside to join a cluster anew (a split's
                        // other side, in the moment before that cluster's state reaches it). Not a member of
                        // anything yet; asked again next round.
                        seen[other] = "holds no cluster state (joining a cluster anew)";
                    }
                    else if (answer.Incarnation is not { } incarnation || incarnation == state.IncarnationId)
                    {
                        return new RefoundVerdict(false, $"its member {other} answers ({answer.Role}, term {answer.Term})", _time.GetElapsedTime(started));
                    }
                    else
                    {
                        seen[other] = $"of incarnation {incarnation} now";
                        movedOn.Add(other);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !token.IsCancellationRequested))
                {
                    seen[other] = e is HttpRequestException { StatusCode: { } status } ? $"answers {(int)status}, not yet as a member (starting)" : PeerClient.Describe(e);
                }
            }

            if (movedOn.Count == others.Length || _time.GetElapsedTime(started) >= RefoundProbe)
            {
                return new RefoundVerdict(true, string.Join("; ", others.Select(o => $"{o}: {seen[o]}")), _time.GetElapsedTime(started));
            }

            await Task.Delay(s_round, _time, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// For a member started with --peers: the peer and why, when a peer says this node is not a member of
    /// its cluster (its state is of an earlier incarnation, restored from a backup, or of the other side of
    /// a split); null when a peer knows it as a member, or every peer refuses connections for
    /// <see cref="PeersDownWait"/> (resume, as any restart does). A peer that is still starting (its
    /// cluster being started anew from its data, say) is waited for, up to <paramref name="joinTimeout"/>.
    /// </summary>
    /// <param name="unreachable">Told of each failed ping (the peer, what failed).</param>
    public async Task<(string Peer, string Detail)?> BelongsElsewhereAsync(IReadOnlyList<NodeAddress> peers, string selfNodeId, TimeSpan joinTimeout, Action<string, string> unreachable, CancellationToken token)
    {
        long started = _time.GetTimestamp();
        while (true)
        {
            bool starting = false;
            foreach (NodeAddress peer in peers)
            {
                try
                {
                    PingResponse answer = await ping(peer.ToString(), token).ConfigureAwait(false);
                    if (answer.CallerIsMember == true)
                    {
                        return null;
                    }

                    if (answer.CallerIsMember == false && answer.Incarnation is { } incarnation)
                    {
                        return (peer.ToString(), $"{peer} runs cluster {answer.ClusterId} incarnation {incarnation}, which has no member {selfNodeId}");
                    }

                    starting = true; // an older build, a cluster not initialized yet, or one being started anew: ask again
                }
                catch (HttpRequestException e) when (e.StatusCode is not null)
                {
                    starting = true; // it answers, but does not serve yet
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is OperationCanceledException && !token.IsCancellationRequested))
                {
                    unreachable(peer.ToString(), PeerClient.Describe(e));
                }
            }

            if (_time.GetElapsedTime(started) >= joinTimeout || (!starting && _time.GetElapsedTime(started) >= PeersDownWait))
            {
                return null;
            }

            await Task.Delay(s_round, _time, token).ConfigureAwait(false);
        }
    }
}
