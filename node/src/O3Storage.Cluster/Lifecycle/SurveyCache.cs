// Owns: not repeating a placement survey that nothing could have changed. A survey walks every object
// (O(objects): 3.8 s for a million on this project's 2-core x86 machine, bench/MetadataBench), and
// every node runs one every 5 s for /health. Its inputs are the committed metadata, immutable (the same
// reference is the same state), and which members are up, down, or dead; while neither changes, the last
// survey is still the answer, so an idle node with millions of objects surveys once instead of every round.
// When only objects changed (the same members, settings and liveness), the last survey is brought up to
// date from the objects the applies changed (MetadataState.ObjectChangesSince): under writes, a round costs
// what was written since the last one, not the whole namespace. Anything else, or a change the state
// cannot list (a restore, a removal, a snapshot read back), is a full walk.
using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Lifecycle;

public sealed class SurveyCache(Func<MetadataState, MemberLiveness, PlacementSurvey> survey)
{
    /// <summary>Walks of every object so far (the rest were updates from the changes or the last survey as it was).</summary>
    public int FullSurveys { get; private set; }

    private MetadataState? _state;
    private string? _liveness;
    private PlacementSurvey? _last;

    public SurveyCache()
        : this(ReplicaPlanner.Survey)
    {
    }

    /// <summary>The survey of <paramref name="state"/> under <paramref name="live"/>: the last one when both are as they were.</summary>
    public PlacementSurvey Survey(MetadataState state, MemberLiveness live)
    {
        string liveness = Describe(state, live);
        if (_last is not null && _state is not null && string.Equals(liveness, _liveness, StringComparison.Ordinal)
            && ReferenceEquals(state.Members, _state.Members) && ReferenceEquals(state.Settings, _state.Settings))
        {
            if (ReferenceEquals(state, _state))
            {
                return _last;
            }

            if (state.ObjectChangesSince(_state) is { } changed)
            {
                _last = ReplicaPlanner.Update(_last, _state, state, live, changed);
                _state = state;
                return _last;
            }
        }

        _last = survey(state, live);
        FullSurveys++;
        _state = state;
        _liveness = liveness;
        return _last;
    }

    /// <summary>What a survey reads of <paramref name="live"/>: for each member and each node heard of as down, up, down or dead.</summary>
    internal static string Describe(MetadataState state, MemberLiveness live) =>
        string.Join(',', state.Members.Keys.Concat(live.DownSince.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(id => live.IsDead(id) ? $"{id} dead" : live.IsUp(id) ? $"{id} up" : $"{id} down"));
}
