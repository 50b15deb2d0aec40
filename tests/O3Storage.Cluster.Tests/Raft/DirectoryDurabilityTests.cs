using O3Storage.Cluster.Raft;

namespace O3Storage.Cluster.Tests.Raft;

public sealed class DirectoryDurabilityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("o3-dirsync-").FullName;
    private readonly List<string> _synced = [];

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void FirstCall_SyncsEveryDirectory_ThenOnlyThoseWithNewNames()
    {
        string a = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;
        string b = Directory.CreateDirectory(Path.Combine(_root, "b")).FullName;
        var durability = new DirectoryDurability([a, b], _synced.Add);

        Assert.Equal(2, durability.SyncNewNames());
        Assert.Equal([a, b], _synced);

        _synced.Clear();
        Assert.Equal(0, durability.SyncNewNames());

        File.WriteAllText(Path.Combine(b, "1"), "page");
        Assert.Equal(1, durability.SyncNewNames());
        Assert.Equal([b], _synced);
    }

    [Fact]
    public void ARemovedName_NeedsNoSync_ButAReplacedOneDoes()
    {
        string a = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;
        File.WriteAllText(Path.Combine(a, "0"), "page");
        var durability = new DirectoryDurability([a], _synced.Add);
        durability.SyncNewNames();
        _synced.Clear();

        File.Delete(Path.Combine(a, "0"));
        Assert.Equal(0, durability.SyncNewNames());

        File.WriteAllText(Path.Combine(a, "0"), "again"); // gone from the durable set when the delete was seen
        Assert.Equal(1, durability.SyncNewNames());
    }

    [Fact]
    public void AMissingDirectory_IsSkipped() =>
        Assert.Equal(0, new DirectoryDurability([Path.Combine(_root, "none")], _synced.Add).SyncNewNames());
}
