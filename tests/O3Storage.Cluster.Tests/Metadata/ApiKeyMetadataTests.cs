using System.Collections.Immutable;
using O3Storage.Cluster.Metadata;
using static O3Storage.Cluster.Tests.Metadata.MetadataSteps;

namespace O3Storage.Cluster.Tests.Metadata;

/// <summary>The API keys each source gives the cluster: replaced whole, withdrawn, gone with the member that gave them.</summary>
public sealed class ApiKeyMetadataTests
{
    private static readonly ClusterKey s_admin = new(2, "admin-secret-0123456789", "O3ADMIN");
    private static readonly ClusterKey s_reader = new(0, "reader-secret-0123456789", "O3READER");

    [Fact]
    public void ASourceIsReplacedWhole_AndAnEmptyListEmptiesIt()
    {
        MetadataState state = Apply(MetadataState.Empty, new SetApiKeys("n1:8080", [s_admin, s_reader]), new SetApiKeys("n2:8080", [s_reader]));
        Assert.Equal(["n1:8080", "n2:8080"], state.ApiKeys.Keys);

        state = Apply(state, new SetApiKeys("n1:8080", [s_admin]));
        Assert.Equal([s_admin], state.ApiKeys["n1:8080"].ToArray());

        state = Apply(state, new SetApiKeys("n2:8080", []));
        Assert.Empty(state.ApiKeys["n2:8080"]); // kept: a retired first admin key is never made again
    }

    [Fact]
    public void ARemovedMembersKeysGo_TheFirstAdminKeyStays_AndANewIncarnationKeepsOnlyItsNodes()
    {
        MetadataState state = Apply(
            MetadataState.Empty,
            new AddMember("n1:8080", "n1:8090", Guid.NewGuid()),
            new AddMember("n2:8080", "n2:8090", Guid.NewGuid()),
            new AddMember("n3:8080", "n3:8090", Guid.NewGuid()),
            new SetApiKeys(ClusterKey.FirstAdminSource, [s_admin]),
            new SetApiKeys("n1:8080", [s_reader]),
            new SetApiKeys("n2:8080", [s_reader]),
            new SetApiKeys("n3:8080", [s_reader]));

        state = Apply(state, new RemoveMember("n3:8080", 1));
        Assert.Equal([ClusterKey.FirstAdminSource, "n1:8080", "n2:8080"], state.ApiKeys.Keys);

        state = Apply(state, new RefoundCluster(Guid.NewGuid(), "n1:8080", 2));
        Assert.Equal([ClusterKey.FirstAdminSource, "n1:8080"], state.ApiKeys.Keys);
    }

    [Fact]
    public void TheKeysSurviveASnapshot_AndAnUnknownRoleIsRefused()
    {
        MetadataState state = Apply(MetadataState.Empty, new SetApiKeys("n1:8080", [s_admin, s_reader]), new SetApiKeys(ClusterKey.FirstAdminSource, [s_admin]));
        MetadataState loaded = MetadataCodec.DecodeSnapshot(MetadataCodec.EncodeSnapshot(state));
        Assert.Equal(state.ApiKeys.Keys, loaded.ApiKeys.Keys);
        Assert.All(state.ApiKeys, pair => Assert.Equal(pair.Value.ToArray(), loaded.ApiKeys[pair.Key].ToArray()));

        byte[] record = MetadataCodec.Encode(new SetApiKeys("n1:8080", [s_admin with { Role = ClusterKey.RoleMax }]));
        int role = record.Length - (1 + 2 + s_admin.Secret.Length + 2 + s_admin.AccessKeyId.Length); // the last key: role, then two strings of 16-bit length
        Assert.Equal(ClusterKey.RoleMax, record[role]);
        record[role] = 7;
        MetadataFormatException refused = Assert.Throws<MetadataFormatException>(() => MetadataCodec.Decode(record));
        Assert.Contains("key role 7", refused.Message, StringComparison.Ordinal);
    }
}
