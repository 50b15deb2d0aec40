using O3Storage.Cluster.Metadata;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>Commands applied one after another, each at the next log index, as the Raft apply loop would.</summary>
internal static class MetadataSteps
{
    public static MetadataState Apply(MetadataState state, params MetadataCommand[] commands)
    {
        foreach (MetadataCommand command in commands)
        {
            state = state.Apply(command, state.LastAppliedIndex + 1);
        }

        return state;
    }
}
