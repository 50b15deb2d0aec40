using Microsoft.Extensions.Logging;
using O3Storage.Node.Hosting;

namespace O3Storage.Node.Tests.Hosting;

public sealed class LogFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("o3-logfile-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public void Lines_AreAppendedWithUtcTimeLevelCategoryAndEventId()
    {
        string path = PathOf("o3storage.log");
        File.WriteAllText(path, "earlier line\n");
        var time = new DateTimeOffset(2026, 11, 26, 13, 40, 1, 234, TimeSpan.FromHours(2));
        using (var factory = LoggerFactory.Create(logging => logging.AddProvider(new LogFileProvider(LogFile.Open(path), new FixedTime(time)))))
        {
            factory.CreateLogger("o3storage").LogWarning(new EventId(3001, "x"), "device {Device} buffered", "/dev/x");
        }

        Assert.Equal(["earlier line", "2026-11-26T11:40:01.234Z warn o3storage[3001] device /dev/x buffered"], File.ReadAllLines(path));
    }

    [Fact]
    public void Exceptions_FollowIndented()
    {
        string line = LogFile.Format(DateTimeOffset.UnixEpoch, LogLevel.Critical, "o3storage", new EventId(1007), "apply failed", new InvalidOperationException("boom"));
        string[] lines = line.Split('\n');
        Assert.Equal("1970-01-01T00:00:00.000Z crit o3storage[1007] apply failed", lines[0]);
        Assert.StartsWith("    System.InvalidOperationException: boom", lines[1]);
    }

    [Fact]
    public void File_IsKeptUnderTheRotationSize_WithOnePreviousGeneration()
    {
        string path = PathOf("o3storage.log");
        using (LogFile file = LogFile.Open(path, rotateBytes: 1000))
        {
            for (int i = 0; i < 100; i++)
            {
                file.Write($"line {i:D3} " + new string('x', 40));
            }
        }

        Assert.True(new FileInfo(path).Length <= 1000);
        Assert.True(new FileInfo(path + ".1").Length <= 1000);
        string[] current = File.ReadAllLines(path);
        Assert.Equal("line 099 " + new string('x', 40), current[^1]);
        string[] previous = File.ReadAllLines(path + ".1");
        Assert.Equal(int.Parse(current[0][5..8], System.Globalization.CultureInfo.InvariantCulture) - 1, int.Parse(previous[^1][5..8], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void UnwritablePath_IsAStartupErrorNamingTheFlag()
    {
        var error = Assert.Throws<StartupException>(() => LogFile.Open(PathOf("missing-dir/o3storage.log")));
        Assert.StartsWith("--log-file: cannot write ", error.Message);
    }

    [Fact]
    public void AFailedWrite_DropsTheLine_AndTheNextWriteRecovers()
    {
        string path = PathOf("o3storage.log");
        using LogFile file = LogFile.Open(path, rotateBytes: 100);
        file.Write("first");
        Directory.CreateDirectory(path + ".1"); // rotation cannot move the file: that write is dropped
        file.Write(new string('y', 120));
        Directory.Delete(path + ".1");
        file.Write("third " + new string('z', 10));
        Assert.Equal("third " + new string('z', 10), File.ReadAllLines(path)[^1]);
    }

    [Fact]
    public void WritesAfterDispose_AreDropped_AndOpenNothing()
    {
        string path = PathOf("o3storage.log");
        LogFile file = LogFile.Open(path);
        file.Write("before");
        file.Dispose();
        File.Delete(path);
        file.Write("after");
        Assert.False(File.Exists(path));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
