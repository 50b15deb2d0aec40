using O3Storage.Ctl.Flash;
using O3Storage.Provisioning;

namespace O3Storage.Ctl.Tests;

public sealed class FlashTests
{
    private const string Sha = "cadce11db1a61f9f964b0c9208d2b2ebb41908a7bd8b24a1c622812df60ff352";

    private static string Map(string ranges, long imageSize = 40960, int blocks = 10, int mapped = 4, string type = "sha256") => $"""
        <?xml version="1.0" ?>
        <bmap version="2.0">
            <ImageSize> {imageSize} </ImageSize>
            <BlockSize> 4096 </BlockSize>
            <BlocksCount> {blocks} </BlocksCount>
            <MappedBlocksCount> {mapped} </MappedBlocksCount>
            <ChecksumType> {type} </ChecksumType>
            <BlockMap>
        {ranges}
            </BlockMap>
        </bmap>
        """;

    [Fact]
    public void Bmap_Parse_RangesWithChecksums_MappedBytes()
    {
        Bmap map = Bmap.Parse(Map($"""<Range chksum="{Sha}"> 0 </Range><Range chksum="{Sha.ToUpperInvariant()}"> 5-7 </Range>"""));
        Assert.Equal([(0L, 0L), (5L, 7L)], map.Ranges.Select(r => (r.First, r.Last)));
        Assert.All(map.Ranges, r => Assert.Equal(Sha, r.Sha256));
        Assert.Equal(4 * 4096, map.MappedBytes);
    }

    [Fact]
    public void Bmap_LastBlockShort_CountsOnlyTheImagesBytes()
    {
        Bmap map = Bmap.Parse(Map("<Range> 9 </Range>", imageSize: 40000, mapped: 1));
        Assert.Equal(40000 - (9 * 4096), map.MappedBytes);
    }

    [Theory]
    [InlineData("<Range> 5-3 </Range>", "not N or N-M")]
    [InlineData("<Range> 10 </Range>", "past the image")]
    [InlineData("<Range> 2-4 </Range><Range> 4-5 </Range>", "overlaps")]
    [InlineData("<Range chksum=\"abc\"> 1 </Range>", "malformed checksum")]
    [InlineData("<Range> 1-2 </Range>", "MappedBlocksCount")]
    public void Bmap_ThatDoesNotAddUp_IsRefused(string ranges, string why) =>
        Assert.Contains(why, Assert.Throws<FormatException>(() => Bmap.Parse(Map(ranges))).Message);

    [Fact]
    public void Bmap_OtherChecksumsOrNotABmap_AreRefused()
    {
        Assert.Contains("sha1", Assert.Throws<FormatException>(() => Bmap.Parse(Map("<Range> 1-4 </Range>", type: "sha1"))).Message);
        Assert.Contains("not XML", Assert.Throws<FormatException>(() => Bmap.Parse("<bmap")).Message);
        Assert.Contains("do not add up", Assert.Throws<FormatException>(() => Bmap.Parse(Map("<Range> 1-4 </Range>", blocks: 11))).Message);
    }

    private const string MountInfo = """
        26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
        30 26 8:17 / /media/u/My\040Card rw - vfat /dev/sdb1 rw
        31 26 0:25 / /tmp rw - tmpfs tmpfs rw
        """;

    [Fact]
    public void DiskGuard_RootDisk_MountedPartition_Swap_Refused_AnUnusedCard_Allowed()
    {
        Assert.Equal("/dev/vda holds the running system's root file system", DiskGuard.Refusal("/dev/vda", ["254:0"], ["/dev/vda"], MountInfo, ""));
        Assert.Contains("8:17 is mounted on /media/u/My Card", DiskGuard.Refusal("/dev/sdb", ["8:16", "8:17"], ["/dev/sdb", "/dev/sdb1"], MountInfo, ""));
        const string swaps = "Filename\tType\tSize\tUsed\tPriority\n/dev/sdc2\tpartition\t1024\t0\t-2\n";
        Assert.Contains("active swap", DiskGuard.Refusal("/dev/sdc", ["8:32", "8:34"], ["/dev/sdc", "/dev/sdc2"], MountInfo, swaps));
        Assert.Null(DiskGuard.Refusal("/dev/sdd", ["8:48", "8:49"], ["/dev/sdd", "/dev/sdd1"], MountInfo, swaps));
    }

    [Fact]
    public void BootFiles_Config_IsWhatTheBoardsParserReads()
    {
        string text = BootFiles.Config("shop", "3f9c1e0b8a7d4c2e9f1a6b5d7c8e0f12", 5, "shelf-a", DateTimeOffset.UnixEpoch);
        BootConfig parsed = BootConfig.TryParse(text, out IReadOnlyList<string> errors) ?? throw new InvalidOperationException(string.Join("; ", errors));
        Assert.Equal(("shop", "3f9c1e0b8a7d4c2e9f1a6b5d7c8e0f12", 5, "shelf-a"), (parsed.ClusterName, parsed.JoinTokenValue, parsed.ExpectedNodes, parsed.Hostname));
    }

    [Theory]
    [InlineData("Shop!", "abcdefabcdef12", 3)]
    [InlineData("shop", "short", 3)]
    [InlineData("shop", "abcdefabcdef12", 0)]
    public void BootFiles_Config_ABoardWouldRefuse_IsAUsageError(string cluster, string token, int expected)
    {
        CtlException e = Assert.Throws<CtlException>(() => BootFiles.Config(cluster, token, expected, null, DateTimeOffset.UnixEpoch));
        Assert.Equal(ExitCode.Usage, e.Code);
        Assert.Contains("line", e.Message);
    }

    [Fact]
    public void BootFiles_JoinToken_MadeOnceOwnerOnly_ThenReused()
    {
        string directory = Directory.CreateTempSubdirectory("o3ctl-token-").FullName;
        try
        {
            string path = Path.Combine(directory, "shop.token");
            (string first, bool made) = BootFiles.JoinToken(path);
            Assert.True(made);
            Assert.Matches("^[0-9a-f]{32}$", first);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            Assert.Equal((first, false), BootFiles.JoinToken(path));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void BootPartitionOffset_FirstFatPartitionOfTheMbr()
    {
        byte[] sector = new byte[512];
        sector[510] = 0x55;
        sector[511] = 0xAA;
        Assert.Null(BootFiles.BootPartitionOffset(sector)); // no partition
        sector[446 + 4] = 0x83; // a Linux partition first
        sector[446 + 8] = 0x00;
        sector[446 + 9] = 0x10;
        sector[462 + 4] = 0x0C; // FAT32 LBA at sector 2048
        sector[462 + 9] = 0x08;
        Assert.Equal(2048L * 512, BootFiles.BootPartitionOffset(sector));
        sector[511] = 0;
        Assert.Null(BootFiles.BootPartitionOffset(sector));
    }
}
