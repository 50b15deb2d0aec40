using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

/// <summary>
/// Boards on one LAN running <see cref="BootstrapDecision"/> in rounds. Like an mDNS browser, each board
/// keeps the last advert it received from every other powered board; each round, each other board's
/// current advert reaches it with a seeded probability (packets are lost and late, so views are stale
/// and differ). Then it decides and acts: a bootstrap makes it a member; a join succeeds only at a
/// member of the same cluster holding the same token (the member's check), otherwise it is refused.
/// </summary>
internal sealed class LanSimulation(int seed, double visibility)
{
    private readonly Random _random = new(seed);
    private readonly List<Board> _boards = [];

    public int Round { get; private set; }

    public IReadOnlyList<Board> Boards => _boards;

    public Board Add(string nodeId, string cluster = "home", string token = "token-1", int expected = 3, int powerOnRound = 0, bool hasMembership = false)
    {
        var board = new Board(nodeId, cluster, token, expected, powerOnRound) { IsMember = hasMembership };
        _boards.Add(board);
        return board;
    }

    /// <summary>Bootstraps per (cluster, token): the invariant is at most one each.</summary>
    public Dictionary<(string Cluster, string Token), int> Bootstraps { get; } = [];

    public void Run(int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            Step();
        }
    }

    public void Step()
    {
        List<Board> powered = _boards.Where(b => b.PowerOnRound <= Round && !b.PoweredOff).ToList();
        Dictionary<Board, PeerAdvert> adverts = powered.ToDictionary(b => b, b => b.Advert());
        foreach (Board board in powered)
        {
            foreach (Board other in powered.Where(other => other != board && _random.NextDouble() < visibility))
            {
                board.Cache[other.NodeId] = adverts[other];
            }

            // A board that went away is forgotten (its goodbye packet, or its record's TTL).
            foreach (string gone in board.Cache.Keys.Where(id => !powered.Any(b => b.NodeId == id)).ToList())
            {
                board.Cache.Remove(gone);
            }

            List<PeerAdvert> view = [.. board.Cache.Values, adverts[board]];
            Decision decision = BootstrapDecision.Decide(board.Advert(), TestSecrets.Of(board.Token, board.Cluster), board.IsMember, board.Expected, view, board.Vote);
            board.Last = decision;
            switch (decision)
            {
                case Decision.Bootstrap:
                    board.IsMember = true;
                    board.Bootstrapped = true;
                    var key = (board.Cluster, board.Token);
                    Bootstraps[key] = Bootstraps.GetValueOrDefault(key) + 1;
                    break;
                case Decision.Join join:
                    Board target = _boards.Single(b => b.NodeId == join.Members[0]);
                    if (target.IsMember && target.Cluster == board.Cluster && target.Token == board.Token)
                    {
                        board.IsMember = true;
                        board.JoinedThrough = target.NodeId;
                    }
                    else
                    {
                        board.Refusals++;
                    }

                    break;
                case Decision.Wait wait:
                    board.Vote = wait.Vote;
                    break;
            }
        }

        Round++;
    }

    internal sealed class Board(string nodeId, string cluster, string token, int expected, int powerOnRound)
    {
        public string NodeId { get; } = nodeId;

        public string Cluster { get; } = cluster;

        public string Token { get; } = token;

        public int Expected { get; } = expected;

        public int PowerOnRound { get; set; } = powerOnRound;

        /// <summary>Off: invisible and idle. A board that was not yet a member forgets its vote (it lives in memory).</summary>
        public bool PoweredOff
        {
            get;
            set
            {
                field = value;
                if (value && !IsMember)
                {
                    Vote = null;
                }
            }
        }

        public bool IsMember { get; set; }

        public bool Bootstrapped { get; set; }

        public string? JoinedThrough { get; set; }

        public int Refusals { get; set; }

        public string? Vote { get; set; }

        /// <summary>The last advert received from each other board (an mDNS browser's cache).</summary>
        public Dictionary<string, PeerAdvert> Cache { get; } = [];

        public Decision? Last { get; set; }

        public PeerAdvert Advert() => TestSecrets.Sign(Token, new PeerAdvert(
            NodeId,
            Cluster,
            IsMember ? PeerState.Member : PeerState.Discovering,
            null,
            IsMember ? null : Vote));
    }
}
