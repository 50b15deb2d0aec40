using O3Storage.Provisioning;

namespace O3Storage.Provisioning.Tests;

public sealed class BootstrapDecisionTests
{
    private const string Token = "token-1";

    private static PeerAdvert Advert(string nodeId, PeerState state = PeerState.Discovering, string? vote = null, string cluster = "home", string token = Token) =>
        TestSecrets.Sign(token, new PeerAdvert(nodeId, cluster, state, null, vote));

    private static Decision Decide(string self, int expected, params PeerAdvert[] visible) =>
        BootstrapDecision.Decide(Advert(self), TestSecrets.Of(Token, "home"), hasMembership: false, expected, visible, vote: null);

    /// <summary>Boards 198.18.0.1 .. .N of cluster "home", all powered on in round 0.</summary>
    private static LanSimulation PowerOn(int seed, double visibility, int boards, int expected)
    {
        var lan = new LanSimulation(seed, visibility);
        for (int i = 1; i <= boards; i++)
        {
            lan.Add($"198.18.0.{i}:8080", expected: expected);
        }

        return lan;
    }

    [Fact]
    public void AMember_Resumes_WhateverItSees()
    {
        Decision decision = BootstrapDecision.Decide(Advert("10.0.0.1:8080"), TestSecrets.Of(Token, "home"), hasMembership: true, 3, [], vote: null);
        Assert.IsType<Decision.Resume>(decision);
    }

    [Fact]
    public void TooFewPeers_Waits_WithoutVoting()
    {
        var wait = Assert.IsType<Decision.Wait>(Decide("10.0.0.2:8080", 3, Advert("10.0.0.3:8080")));
        Assert.Equal("2 of 3 expected nodes of cluster 'home' visible", wait.Reason);
        Assert.Null(wait.Vote);
    }

    [Fact]
    public void AVote_IsForTheLowestOfTheFirstFullSet_AndNeverChanges()
    {
        var first = Assert.IsType<Decision.Wait>(Decide("10.0.0.3:8080", 3, Advert("10.0.0.2:8080"), Advert("10.0.0.4:8080")));
        Assert.Equal("10.0.0.2:8080", first.Vote);

        // A lower node appears, or the voted one vanishes: the vote stays.
        Decision later = BootstrapDecision.Decide(Advert("10.0.0.3:8080"), TestSecrets.Of(Token, "home"), false, 3, [Advert("10.0.0.1:8080"), Advert("10.0.0.4:8080")], first.Vote);
        Assert.Equal("10.0.0.2:8080", Assert.IsType<Decision.Wait>(later).Vote);
        Assert.Equal("waiting for 10.0.0.2:8080 to bootstrap cluster 'home'", ((Decision.Wait)later).Reason);
    }

    [Fact]
    public void TheLowest_BootstrapsOnlyOnceEveryExpectedNodeVotesForIt()
    {
        var wait = Assert.IsType<Decision.Wait>(Decide("10.0.0.1:8080", 3, Advert("10.0.0.2:8080", vote: "10.0.0.1:8080"), Advert("10.0.0.3:8080")));
        Assert.Equal("2 of 3 expected nodes agree that this node bootstraps", wait.Reason);

        Assert.IsType<Decision.Bootstrap>(Decide("10.0.0.1:8080", 3, Advert("10.0.0.2:8080", vote: "10.0.0.1:8080"), Advert("10.0.0.3:8080", vote: "10.0.0.1:8080")));

        // Having voted for another node, it never bootstraps itself.
        Decision voted = BootstrapDecision.Decide(Advert("10.0.0.1:8080"), TestSecrets.Of(Token, "home"), false, 3, [Advert("10.0.0.2:8080", vote: "10.0.0.1:8080"), Advert("10.0.0.3:8080", vote: "10.0.0.1:8080")], vote: "10.0.0.0:8080");
        Assert.IsType<Decision.Wait>(voted);
    }

    [Fact]
    public void NodeIds_AreOrderedByAddressNotText()
    {
        // As text "10.0.0.10" < "10.0.0.9"; as an address it is higher.
        var wait = Assert.IsType<Decision.Wait>(Decide("10.0.0.10:8080", 2, Advert("10.0.0.9:8080")));
        Assert.Equal("waiting for 10.0.0.9:8080 to bootstrap cluster 'home'", wait.Reason);
    }

    [Fact]
    public void AnyMemberOfTheCluster_IsJoined_LowestFirst()
    {
        var join = Assert.IsType<Decision.Join>(Decide("10.0.0.4:8080", 3, Advert("10.0.0.3:8080", PeerState.Member), Advert("10.0.0.2:8080", PeerState.Member), Advert("10.0.0.5:8080")));
        Assert.Equal(["10.0.0.2:8080", "10.0.0.3:8080"], join.Members);
    }

    [Fact]
    public void AnotherClustersMembers_AreNeverJoined()
    {
        var wait = Assert.IsType<Decision.Wait>(Decide("10.0.0.4:8080", 2, Advert("10.0.0.1:8080", PeerState.Member, cluster: "lab")));
        Assert.Equal("1 of 2 expected nodes of cluster 'home' visible", wait.Reason);
    }

    [Fact]
    public void PeersWithAnotherToken_AreAnotherCluster_AndTheWaitSaysSo()
    {
        var wait = Assert.IsType<Decision.Wait>(Decide("10.0.0.4:8080", 3, Advert("10.0.0.1:8080", PeerState.Member, token: "wrong"), Advert("10.0.0.2:8080", token: "wrong")));
        Assert.Equal("1 of 3 expected nodes of cluster 'home' visible; 2 node(s) of cluster 'home' show another join token (compare o3storage.txt)", wait.Reason);
    }

    [Fact]
    public void ACopiedProof_DoesNotVouchForAnotherNodeId()
    {
        PeerAdvert copied = Advert("10.0.0.1:8080", PeerState.Member) with { NodeId = "10.0.0.66:8080" };
        Assert.False(TestSecrets.Of(Token, "home").VerifiesAdvert(copied));
        Assert.True(TestSecrets.Of(Token, "home").VerifiesAdvert(Advert("10.0.0.1:8080")));
    }

    [Fact]
    public void ItsOwnAdvert_InTheView_IsNotCountedTwice()
    {
        var wait = Assert.IsType<Decision.Wait>(Decide("10.0.0.1:8080", 2, Advert("10.0.0.1:8080"), Advert("10.0.0.1:8080")));
        Assert.Equal("1 of 2 expected nodes of cluster 'home' visible", wait.Reason);
    }

    [Fact]
    public void ANodeSeenUnderTwoNames_CountsAsItsFurthestAdvert_InAnyOrder()
    {
        // Node .1 was renamed after a collision: its old advert (no goodbye was sent) lingers in the
        // cache beside the new one, and the browser lists them in no particular order.
        PeerAdvert stale = Advert("10.0.0.1:8080");
        PeerAdvert voted = Advert("10.0.0.1:8080", vote: "10.0.0.1:8080");
        PeerAdvert member = Advert("10.0.0.1:8080", PeerState.Member);
        foreach (PeerAdvert[] view in new[] { new[] { stale, member }, [member, stale], [stale, voted, member], [member, voted, stale] })
        {
            Assert.Equal(["10.0.0.1:8080"], Assert.IsType<Decision.Join>(Decide("10.0.0.3:8080", 3, view)).Members);
        }

        // Before it is a member, its vote counts though an older advert without one is still listed.
        PeerAdvert staleTwo = Advert("10.0.0.2:8080");
        PeerAdvert votedTwo = Advert("10.0.0.2:8080", vote: "10.0.0.1:8080");
        foreach (PeerAdvert[] view in new[] { new[] { staleTwo, votedTwo }, [votedTwo, staleTwo] })
        {
            PeerAdvert[] withThird = [.. view, Advert("10.0.0.3:8080", vote: "10.0.0.1:8080")];
            Assert.IsType<Decision.Bootstrap>(BootstrapDecision.Decide(Advert("10.0.0.1:8080"), TestSecrets.Of(Token, "home"), false, 3, withThird, vote: "10.0.0.1:8080"));
        }
    }

    [Fact]
    public void ASingleNodeCluster_BootstrapsAtOnce()
    {
        Assert.IsType<Decision.Bootstrap>(Decide("10.0.0.1:8080", 1));
    }

    [Fact]
    public void SimultaneousPowerOn_OverManySeedsAndLossyViews_OneBootstrapAndEveryoneJoins()
    {
        for (int seed = 1; seed <= 200; seed++)
        {
            LanSimulation lan = PowerOn(seed, visibility: 0.6, boards: 5, expected: 5);

            lan.Run(60);

            Assert.True(lan.Bootstraps.Values.All(count => count <= 1), $"seed {seed}: two bootstraps");
            Assert.True(lan.Boards.All(b => b.IsMember), $"seed {seed}: not everyone is a member after 60 rounds: " + string.Join("; ", lan.Boards.Select(b => $"{b.NodeId} member={b.IsMember} vote={b.Vote} last={b.Last}")));
            Assert.Equal("198.18.0.1:8080", Assert.Single(lan.Boards, b => b.Bootstrapped).NodeId);
        }
    }

    [Fact]
    public void MoreBoardsThanExpected_StillNeverTwoBootstraps()
    {
        // Five boards told to expect three: any two bootstraps would need six distinct voters. Progress
        // is not promised here (votes split between views can leave every candidate short), only safety.
        for (int seed = 1; seed <= 300; seed++)
        {
            LanSimulation lan = PowerOn(seed, visibility: 0.4, boards: 5, expected: 3);

            lan.Run(60);
            Assert.True(lan.Bootstraps.Values.All(count => count <= 1), $"seed {seed}: two bootstraps");
        }
    }

    [Fact]
    public void LateJoiner_JoinsTheRunningClusterByItself()
    {
        var lan = new LanSimulation(seed: 7, visibility: 0.8);
        for (int i = 1; i <= 3; i++)
        {
            lan.Add($"198.18.0.{i}:8080");
        }

        LanSimulation.Board late = lan.Add("198.18.0.4:8080", powerOnRound: 40);
        lan.Run(80);
        Assert.Equal(1, lan.Bootstraps[("home", Token)]);
        Assert.True(late.IsMember);
        Assert.False(late.Bootstrapped);
        Assert.NotNull(late.JoinedThrough);
    }

    [Fact]
    public void AMemberRebooting_ResumesAndNeverBootstrapsAgain()
    {
        var lan = new LanSimulation(seed: 3, visibility: 1.0);
        LanSimulation.Board first = lan.Add("198.18.0.1:8080");
        lan.Add("198.18.0.2:8080");
        lan.Add("198.18.0.3:8080");
        lan.Run(10);
        Assert.True(first.Bootstrapped);

        // It reboots while the others wait for nobody: they are members and so is it.
        first.PoweredOff = true;
        lan.Run(5);
        first.PoweredOff = false;
        lan.Run(10);
        Assert.IsType<Decision.Resume>(first.Last);
        Assert.Equal(1, lan.Bootstraps[("home", Token)]);
    }

    [Fact]
    public void TwoClustersOnOneLan_EachBootstrapsOnce()
    {
        for (int seed = 1; seed <= 100; seed++)
        {
            var lan = new LanSimulation(seed, visibility: 0.7);
            for (int i = 1; i <= 3; i++)
            {
                lan.Add($"198.18.0.{i}:8080", cluster: "home");
                lan.Add($"198.18.1.{i}:8080", cluster: "lab", token: "token-2");
            }

            lan.Run(60);
            Assert.Equal(1, lan.Bootstraps[("home", Token)]);
            Assert.Equal(1, lan.Bootstraps[("lab", "token-2")]);
            Assert.All(lan.Boards.Where(b => b.JoinedThrough is not null), b => Assert.StartsWith(b.Cluster == "home" ? "198.18.0." : "198.18.1.", b.JoinedThrough));
        }
    }

    [Fact]
    public void ABoardWithTheWrongToken_NeverBootstrapsNorJoins_AndSaysWhy()
    {
        var lan = new LanSimulation(seed: 11, visibility: 0.9);
        for (int i = 1; i <= 3; i++)
        {
            lan.Add($"198.18.0.{i}:8080");
        }

        // The lowest id, so a token-blind rule would have made it the bootstrapper.
        LanSimulation.Board wrong = lan.Add("198.18.0.0:8080", token: "typo");
        lan.Run(40);
        Assert.False(wrong.IsMember);
        Assert.False(wrong.Bootstrapped);
        Assert.Equal(1, lan.Bootstraps[("home", Token)]);
        Assert.Contains("show another join token", Assert.IsType<Decision.Wait>(wrong.Last).Reason);
    }
}
