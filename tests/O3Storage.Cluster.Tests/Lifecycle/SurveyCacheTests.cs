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
}
