namespace O3Storage.Cluster.Metadata;

/// <summary>
/// A command of a metadata level the cluster has not reached: some member's build could not read it
/// (it would stop, exit 70, rather than skip it). Nothing was appended; it may be proposed again once
/// every member runs a build that reads the level.
/// </summary>
public sealed class MetadataLevelException(MetadataCommand command, int clusterLevel)
    : Exception($"{command.GetType().Name} is of metadata level {MetadataCodec.LevelOf(command)}, and the cluster is at level {clusterLevel}: a member runs a build that cannot read it; update every node first")
{
    public static bool Allows(MetadataState state, MetadataCommand command) =>
        MetadataCodec.LevelOf(command) <= state.ClusterLevel
        // The lone node of a new incarnation, and the raise itself, which waits for every member.
        || command is RefoundCluster or SetClusterLevel;
}
