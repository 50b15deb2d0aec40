// Owns: a node's first-boot conversation with the LAN: advertise, look, decide (BootstrapDecision),
// until the decision is to bootstrap or to join; then, as a member, keep advertising so later boards
// find the cluster. Votes are persisted by the caller before they are advertised, so a node that
// restarts while discovering keeps the vote it gave (the decision's invariant depends on it).
// Faults: an mDNS error while discovering is reported and retried on the next round (avahi restarting
// is not a reason to give up); the caller bounds the whole wait with its cancellation token.
namespace O3Storage.Provisioning;

public sealed class DiscoveryLoop
{
    /// <summary>How often the view is refreshed while discovering: adverts travel in about a second.</summary>
    public static readonly TimeSpan DefaultRoundInterval = TimeSpan.FromSeconds(1);

    /// <summary>How often a member re-asserts its advert (and repairs a registration avahi lost).</summary>
    public static readonly TimeSpan DefaultMemberInterval = TimeSpan.FromSeconds(5);

    private readonly IPeerDiscovery _lan;
    private readonly PeerAdvert _self;
    private readonly BootConfig _config;
    private readonly ClusterSecret _secret;
    private readonly TimeProvider _time;
    private readonly TimeSpan _roundInterval;

    /// <param name="nodeId">This node's id (<c>ip:port</c>).</param>
    /// <param name="secret">The join token of <paramref name="config"/>, derived once (<see cref="ClusterSecret.FromToken"/>).</param>
    public DiscoveryLoop(IPeerDiscovery lan, string nodeId, BootConfig config, ClusterSecret secret, TimeProvider time, TimeSpan roundInterval)
    {
        _lan = lan;
        _config = config;
        _secret = secret;
        _time = time;
        _roundInterval = roundInterval;
        _self = new PeerAdvert(nodeId, config.ClusterName, PeerState.Discovering, TokenProof: null);
    }

    /// <summary>This node as a member advertises itself.</summary>
    public PeerAdvert MemberAdvert => _secret.Sign(_self with { State = PeerState.Member });

    /// <summary>
    /// Rounds of advertise-look-decide until the node should bootstrap or join.
    /// </summary>
    /// <param name="vote">A vote given before a restart (persisted), or null.</param>
    /// <param name="persistVote">Called with a new vote before it is advertised; must be durable when it returns.</param>
    /// <param name="report">Called when the reason for waiting changes, or an mDNS round fails.</param>
    /// <param name="round">Called at the start of every round (the node extends systemd's start timeout with it).</param>
    public async Task<Decision> DecideAsync(string? vote, Action<string> persistVote, Action<string> report, CancellationToken token, Action? round = null)
    {
        string? lastReport = null;
        while (true)
        {
            round?.Invoke();
            try
            {
                await _lan.AdvertiseAsync(_secret.Sign(_self with { BootstrapVote = vote }), token).ConfigureAwait(false);
                IReadOnlyList<PeerAdvert> visible = await _lan.LookAsync(token).ConfigureAwait(false);
                Decision decision = BootstrapDecision.Decide(_self, _secret, hasMembership: false, _config.ExpectedNodes, visible, vote);
                if (decision is Decision.Bootstrap && vote != _self.NodeId)
                {
                    // Everyone else already voted for this node, so it never had to wait: its own vote is recorded all the same.
                    persistVote(_self.NodeId);
                }

                if (decision is not Decision.Wait wait)
                {
                    return decision;
                }

                if (wait.Vote is not null && wait.Vote != vote)
                {
                    persistVote(wait.Vote);
                    vote = wait.Vote;

                    // Show the vote at once: the node it names may be waiting only for it.
                    continue;
                }

                ReportOnce(wait.Reason);
            }
            catch (Exception e) when (e is PeerDiscoveryException && !token.IsCancellationRequested)
            {
                ReportOnce($"mDNS: {e.Message}");
            }

            await Task.Delay(_roundInterval, _time, token).ConfigureAwait(false);
        }

        void ReportOnce(string message)
        {
            if (message != lastReport)
            {
                lastReport = message;
                report(message);
            }
        }
    }

    /// <summary>Advertises this node as a member until cancelled; a failed round is reported (once per distinct error) and retried.</summary>
    public async Task AdvertiseMemberAsync(TimeSpan interval, Action<string> report, CancellationToken token)
    {
        string? lastError = null;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await _lan.AdvertiseAsync(MemberAdvert, token).ConfigureAwait(false);
                if (lastError is not null)
                {
                    report("mDNS advert restored");
                    lastError = null;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
            {
                // Any failure, not only avahi's own: the advert must not stop silently while the node serves.
                if (e.Message != lastError)
                {
                    report($"mDNS advert failed, retrying: {e.Message}");
                    lastError = e.Message;
                }
            }

            try
            {
                await Task.Delay(interval, _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
