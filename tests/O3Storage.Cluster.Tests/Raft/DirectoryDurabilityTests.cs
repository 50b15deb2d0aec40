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
    public void ThePagesAfterTheLastOneInUse_ExistWithDurableNames_BeforeTheLogReachesThem()
    {
        string pages = Directory.CreateDirectory(Path.Combine(_root, "metadata")).FullName;
        File.WriteAllText(Path.Combine(pages, "0"), "page 0 in use");
        var listings = new List<string[]>();
        var durability = new DirectoryDurability([pages], d => listings.Add(Names(d)), [pages]);

        Assert.Equal(1, durability.SyncNewNames());
        Assert.Equal(["0", "1", "2"], listings.Single()); // made first, then the directory was synced
        Assert.Equal(0, new FileInfo(Path.Combine(pages, "1")).Length);

        // Made ahead but not in use: nothing more to make or sync.
        Assert.Equal(0, durability.SyncNewNames());

        // The log reaches page 1 (DotNext sizes it as it opens it): page 3 is made and synced.
        File.WriteAllText(Path.Combine(pages, "1"), "page 1 in use");
        Assert.Equal(1, durability.SyncNewNames());
        Assert.Equal(["0", "1", "2", "3"], listings[^1]);

        // A page DotNext made itself meanwhile (it raced us) is simply there: no error, still synced.
        File.WriteAllText(Path.Combine(pages, "4"), "made by the log");
        Assert.Equal(1, durability.SyncNewNames());
        Assert.Equal(["0", "1", "2", "3", "4", "5", "6"], listings[^1]);
    }

    [Fact]
    public void PagesAreProbedUpwards_NotListed_WhileThePageInUseIsThere()
    {
        // Under writes a page directory changes every new page, so its time never looks quiet: a listing
        // on every append was 3.6 % of all CPU during 4 KiB PUTs. From the page in use, the files above it
        // are probed until one is missing; a page beyond a gap (which the log never makes) is not seen...
        string pages = Directory.CreateDirectory(Path.Combine(_root, "metadata")).FullName;
        File.WriteAllText(Path.Combine(pages, "0"), "page 0 in use");
        var durability = new DirectoryDurability([], _ => { }, [pages]);
        durability.SyncNewNames(); // listed once: 1 and 2 made ahead
        File.WriteAllText(Path.Combine(pages, "9"), "beyond a gap");
        durability.SyncNewNames();
        Assert.False(File.Exists(Path.Combine(pages, "10")));

        // ...until the page in use is gone (the log cut back or compacted): then the directory is listed again.
        File.Delete(Path.Combine(pages, "0"));
        durability.SyncNewNames();
        Assert.True(File.Exists(Path.Combine(pages, "10")) && File.Exists(Path.Combine(pages, "11")));
    }

    [Fact]
    public void AQuietDirectory_IsNotListedAgain_UntilItsTimeChanges()
    {
        string a = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;
        File.WriteAllText(Path.Combine(a, "0"), "page");
        DateTime quiet = DateTime.UtcNow - TimeSpan.FromMinutes(1);
        Directory.SetLastWriteTimeUtc(a, quiet);
        var durability = new DirectoryDurability([a], _synced.Add);
        Assert.Equal(1, durability.SyncNewNames());

        // A name that came without moving the directory's time is not seen: proof the directory was not listed.
        File.WriteAllText(Path.Combine(a, "1"), "page");
        Directory.SetLastWriteTimeUtc(a, quiet);
        Assert.Equal(0, durability.SyncNewNames());

        // Any real change moves the time: listed, and the new names synced.
        File.WriteAllText(Path.Combine(a, "2"), "page");
        Assert.Equal(1, durability.SyncNewNames());
    }

    [Fact]
    public void ADirectoryChangedJustNow_IsListedEveryTime_ForASecondNameMayShareTheFirstOnesTime()
    {
        string a = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;
        File.WriteAllText(Path.Combine(a, "0"), "page");
        var durability = new DirectoryDurability([a], _synced.Add);
        Assert.Equal(1, durability.SyncNewNames());
        DateTime stamped = Directory.GetLastWriteTimeUtc(a);

        // As if the file system stamped the next name in the same clock tick: the time does not move.
        File.WriteAllText(Path.Combine(a, "1"), "page");
        Directory.SetLastWriteTimeUtc(a, stamped);
        Assert.Equal(1, durability.SyncNewNames());
    }

    private static string[] Names(string directory) =>
        [.. Directory.GetFiles(directory).Select(Path.GetFileName).OrderBy(n => int.Parse(n!, System.Globalization.CultureInfo.InvariantCulture))!];

    [Fact]
    public void AMissingDirectory_IsSkipped() =>
        Assert.Equal(0, new DirectoryDurability([Path.Combine(_root, "none")], _synced.Add).SyncNewNames());
}
