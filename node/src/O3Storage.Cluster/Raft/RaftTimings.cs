namespace O3Storage.Cluster.Raft;

/// <summary>
/// The Raft timeouts for a board whose TLS handshake (both ends' work, measured on the board itself)
/// takes <c>handshake</c>. On a Pi 4 a handshake is a few milliseconds and the defaults hold. Under
/// emulation, or on a much slower board, it takes seconds, while DotNext gives a connection, handshake
/// included, <see cref="RaftNodeOptions.ConnectTimeout"/>: a follower whose connection to the leader
/// broke could never make a new one, and its reads would time out (make test-fleet). So the connect
/// timeout is a few handshakes, and the election timeout twice that: a candidate waits for every vote
/// request, so one to a powered-off member must give up before the election does.
/// </summary>
public sealed record RaftTimings(TimeSpan Connect, TimeSpan LowerElection, TimeSpan UpperElection, TimeSpan Request)
{
    /// <summary>A connection gets this many handshakes' time: the measurement is of an idle moment, the cluster's are not.</summary>
    public const int HandshakesPerConnect = 4;

    public static readonly TimeSpan ConnectMax = TimeSpan.FromSeconds(10);

    public static RaftTimings Default { get; } = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2));

    public bool IsScaled => this != Default;

    public static RaftTimings For(TimeSpan handshake)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(handshake, TimeSpan.Zero);
        // In steps of 100 ms, so small differences between boards' measurements do not show.
        long steps = (long)Math.Ceiling(handshake.TotalMilliseconds * HandshakesPerConnect / 100);
        TimeSpan connect = TimeSpan.FromMilliseconds(Math.Min(steps * 100, ConnectMax.TotalMilliseconds));
        if (connect <= Default.Connect)
        {
            return Default;
        }

        TimeSpan lower = Max(Default.LowerElection, connect * 2);
        return new RaftTimings(connect, lower, lower * 2, Max(Default.Request, connect * 2));
    }

    /// <summary>The node's own calls to its peers (HTTP, TLS included): never less than they had.</summary>
    public TimeSpan PeerConnect(TimeSpan usual) => Max(usual, Connect);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
