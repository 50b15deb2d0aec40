using O3Storage.Ctl.Api;
using O3Storage.Ctl.Views;

namespace O3Storage.Ctl.Tests;

public sealed class StatusViewTests
{
    private static readonly string[] s_ids = ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"];

    private static Health Report(string id, string role, bool quorum = true, MaintenancePart? maintenance = null, string status = "ok", params (string Id, string State, bool Reachable)[] members) =>
        new(status, id, "1.0.0", 10,
            new ClusterPart("c", role, quorum ? s_ids[0] : null, 3, members.Count(m => m.Reachable), members.Length, 2, quorum, quorum && maintenance is not { Enabled: true }, 42, 3,
                [.. members.Select(m => new MemberPart(m.Id, m.Id == s_ids[0] ? "leader" : "follower", m.Reachable, m.State, "1.0.0", m.Id == id))], maintenance),
            new StoragePart(7, 4096, 1 << 30, (1 << 30) - 4096, 0, new ScrubPart("idle", 0, 1)),
            new HardwarePart("no board", role, 48.5, "thermal_zone0", 1), null, new AuthPart(true), "idle: every object is where placement wants it");

    private static (string, string, bool)[] All(string thirdState = "active", bool thirdUp = true) =>
        [(s_ids[0], "active", true), (s_ids[1], "active", true), (s_ids[2], thirdState, thirdUp)];

    [Fact]
    public void Compose_EveryMemberAnswers_HealthyWithEachMembersOwnNumbers()
    {
        Health leader = Report(s_ids[0], "leader", members: All());
        ClusterStatus status = StatusView.Compose(leader, new Dictionary<string, Health?>
        {
            [s_ids[0]] = leader,
            [s_ids[1]] = Report(s_ids[1], "follower", members: All()),
            [s_ids[2]] = Report(s_ids[2], "follower", members: All()),
        });
        Assert.Equal(StatusView.Healthy, status.Health);
        Assert.StartsWith("healthy: 3/3 members up, leader 10.0.0.1:8080 (term 3)", status.Summary);
        Assert.Equal(["leader", "follower", "follower"], status.Members.Select(m => m.Role));
        Assert.All(status.Members, m => Assert.Equal((7L, 48.5, "1.0.0"), (m.Objects!.Value, m.TemperatureCelsius!.Value, m.Version)));
        Assert.Equal("follower", status.Members[2].Led);
    }

    [Fact]
    public void Compose_AMemberDoesNotAnswer_DegradedAndItsRowSaysDown()
    {
        Health leader = Report(s_ids[0], "leader", members: All(thirdUp: false));
        ClusterStatus status = StatusView.Compose(leader, new Dictionary<string, Health?> { [s_ids[0]] = leader, [s_ids[1]] = leader, [s_ids[2]] = null });
        Assert.Equal(StatusView.Degraded, status.Health);
        Assert.Contains("2/3 members up", status.Summary);
        Assert.Contains("10.0.0.3:8080 does not answer", status.Summary);
        MemberStatus down = status.Members[2];
        Assert.Equal(("down", false, null), (down.State, down.Reachable, down.Objects));
    }

    [Fact]
    public void Compose_NoQuorum_Unavailable()
    {
        Health alone = Report(s_ids[1], "candidate", quorum: false, members: All(thirdUp: false));
        ClusterStatus status = StatusView.Compose(alone, new Dictionary<string, Health?> { [s_ids[1]] = alone });
        Assert.Equal(StatusView.Unavailable, status.Health);
        Assert.Contains("no leader", status.Summary);
        Assert.Contains("no quorum", status.Summary);
    }

    [Fact]
    public void Compose_MaintenanceOrDraining_DegradedWithTheReason()
    {
        Health inMaintenance = Report(s_ids[0], "leader", maintenance: new MaintenancePart(true, "disk swap", DateTimeOffset.UnixEpoch), members: All());
        ClusterStatus status = StatusView.Compose(inMaintenance, s_ids.ToDictionary(id => id, _ => (Health?)inMaintenance));
        Assert.Equal(StatusView.Degraded, status.Health);
        Assert.Contains("maintenance mode (disk swap)", status.Summary);

        Health draining = Report(s_ids[0], "leader", members: All(thirdState: "draining"));
        ClusterStatus drain = StatusView.Compose(draining, s_ids.ToDictionary(id => id, _ => (Health?)draining));
        Assert.Equal(StatusView.Degraded, drain.Health);
        Assert.Contains("10.0.0.3:8080 is draining", drain.Summary);
    }

    [Theory]
    [InlineData(null, "-")]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1536L, "1.5 KiB")]
    [InlineData(968884224L, "924.0 MiB")]
    [InlineData(5L << 40, "5.0 TiB")]
    public void Bytes_InIecUnits(long? bytes, string expected) => Assert.Equal(expected, StatusView.Bytes(bytes));
}
