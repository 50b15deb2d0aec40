using O3Storage.Cluster.Lifecycle;
using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Lifecycle.LifecycleScenario;

namespace O3Storage.Cluster.Tests.Lifecycle;

public sealed class SurveyCacheTests
{
    [Fact]
    public void TheSameStateAndLiveness_AreNotSurveyedAgain()
    {
        int surveys = 0;
        var cache = new SurveyCache((state, live) =>
        {
            surveys++;
            return ReplicaPlanner.Survey(state, live);
        });
        MetadataState state = PutMany(Members(3), 20);

        PlacementSurvey first = cache.Survey(state, Live());
        // A later round: a new liveness record (a new instant), the same answers.
        PlacementSurvey again = cache.Survey(state, Live());
        Assert.Same(first, again);
        Assert.Equal(1, surveys);

        // Down is not up (placement copies only to members that answer): surveyed again, then kept.
        cache.Survey(state, Live((3, TimeSpan.FromMinutes(1))));
        cache.Survey(state, Live((3, TimeSpan.FromMinutes(2))));
        Assert.Equal(2, surveys);
    }

    [Fact]
    public void ANewCommit_OrAMemberPastItsGrace_IsSurveyedAgain()
    {
        var cache = new SurveyCache();
        MetadataState state = PutMany(Members(3), 20);
        Assert.Equal(0, cache.Survey(state, Live((3, TimeSpan.FromMinutes(1)))).UnderReplicated);

        // The same state, but node 3 has now been down past the grace: its replicas stop counting.
        Assert.Equal(20, cache.Survey(state, Live((3, TimeSpan.FromMinutes(6)))).UnderReplicated);

        // One more object committed: a new state.
        MetadataState more = Put(state, "another", Node(1), Node(2), Node(3));
        Assert.Equal(21, cache.Survey(more, Live()).Objects);
    }

    [Fact]
    public void UnderWrites_EachRoundFollowsTheChanges_AndEqualsAFullWalk()
    {
        // Puts, overwrites, deletes and moves between rounds, some on misplaced replicas, with a node down
        // (not dead): every round's survey must be what a walk of every object says, without that walk.
        var cache = new SurveyCache();
        MemberLiveness live = Live((4, TimeSpan.FromMinutes(1)));
        MetadataState state = PutMany(Members(4), 50);
        cache.Survey(state, live);
        var random = new Random(21);
        for (int round = 0; round < 30; round++)
        {
            for (int change = random.Next(0, 12); change > 0; change--)
            {
                string key = $"object-{random.Next(0, 80):D4}";
                long index = state.LastAppliedIndex + 1;
                state = random.Next(0, 4) switch
                {
                    0 => state.Apply(new DeleteObject("b", key), index),
                    1 when state.FindObject("b", key) is { } current => state.Apply(new SetReplicas("b", key, current.VersionIndex, [Node(random.Next(1, 5)), Node(random.Next(1, 5))]), index),
                    2 => Put(state, key, Node(4), Node(1)),
                    _ => PutMany(state, 0) is var same && random.Next(2) == 0 ? Put(same, key, Node(1), Node(2), Node(3)) : Put(same, key, Node(2)),
                };
            }

            PlacementSurvey followed = cache.Survey(state, live);
            PlacementSurvey walked = ReplicaPlanner.Survey(state, live);
            Assert.Equal((walked.Objects, walked.UnderReplicated, walked.Misplaced, walked.MisplacedBytes), (followed.Objects, followed.UnderReplicated, followed.Misplaced, followed.MisplacedBytes));
            Assert.Equal(walked.Now.OrderBy(p => p.Key), followed.Now.OrderBy(p => p.Key));
            Assert.Equal(walked.Target.OrderBy(p => p.Key), followed.Target.OrderBy(p => p.Key));
        }

        Assert.Equal(1, cache.FullSurveys);
        Assert.True(state.Buckets["b"].Objects.Count > 0);
    }

    [Fact]
    public void AChangeTheStateCannotList_OrANewMember_IsAFullWalk()
    {
        var cache = new SurveyCache();
        MetadataState state = PutMany(Members(3), 20);
        cache.Survey(state, Live());

        // Read back from a snapshot: what came before is not known.
        MetadataState readBack = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(Put(state, "one-more", Node(1))));
        Assert.Null(readBack.ObjectChangesSince(state));
        Assert.Equal(21, cache.Survey(readBack, Live()).Objects);
        Assert.Equal(2, cache.FullSurveys);

        // A member joins: every object's placement may change.
        cache.Survey(Add(readBack, 4), Live());
        Assert.Equal(3, cache.FullSurveys);

        // A restore rewrites the namespace at once.
        MetadataState snapshotted = readBack.Apply(new CreateSnapshot("s", 1), readBack.LastAppliedIndex + 1);
        MetadataState restored = Put(snapshotted, "after", Node(1)).Apply(new RestoreSnapshot("s", 2, 0), snapshotted.LastAppliedIndex + 2);
        Assert.Null(restored.ObjectChangesSince(snapshotted));
        Assert.Equal(21, cache.Survey(restored, Live()).Objects);
    }
}
