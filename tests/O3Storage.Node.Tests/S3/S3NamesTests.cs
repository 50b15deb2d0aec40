using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

public sealed class S3NamesTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("my-bucket.2026")]
    [InlineData("backups-192-168-1-101")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void GoodBucketNames_Pass(string name) => Assert.Null(S3Names.CheckBucket(name));

    [Theory]
    [InlineData("internal", "reserved")]
    [InlineData("health", "reserved")]
    [InlineData("metrics", "reserved")]
    [InlineData("admin", "reserved")]
    [InlineData("ab", "3 to 63")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234", "3 to 63")]
    [InlineData("My-Bucket", "lower-case")]
    [InlineData("under_score", "lower-case")]
    [InlineData("-abc", "start and end")]
    [InlineData("abc.", "start and end")]
    [InlineData("a..b", "'..'")]
    [InlineData("192.168.1.101", "IP address")]
    [InlineData("xn--abc", "xn--")]
    [InlineData("data-s3alias", "-s3alias")]
    public void BadBucketNames_AreInvalidBucketName(string name, string why)
    {
        S3Error error = S3Names.CheckBucket(name)!;
        Assert.Equal(("InvalidBucketName", 400), (error.Code, error.Status));
        Assert.Contains(why, error.Message);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("photos/2026/ünï cødé (1).jpg")]
    [InlineData("a..b/c.d")]
    [InlineData("...")]
    public void GoodKeys_Pass(string key) => Assert.Null(S3Names.CheckKey(key));

    [Theory]
    [InlineData("", "InvalidArgument", "empty")]
    [InlineData("a\0b", "InvalidArgument", "NUL")]
    [InlineData("../etc/passwd", "InvalidArgument", "'..'")]
    [InlineData("a/./b", "InvalidArgument", "'.'")]
    [InlineData("a/..", "InvalidArgument", "'..'")]
    public void BadKeys_AreRefused(string key, string code, string why)
    {
        S3Error error = S3Names.CheckKey(key)!;
        Assert.Equal((code, 400), (error.Code, error.Status));
        Assert.Contains(why, error.Message);
    }

    [Fact]
    public void KeyLimit_IsCountedInUtf8Bytes()
    {
        Assert.Null(S3Names.CheckKey(new string('a', 1024)));
        Assert.Equal("KeyTooLongError", S3Names.CheckKey(new string('a', 1025))!.Code);
        Assert.Equal("KeyTooLongError", S3Names.CheckKey(new string('é', 513))!.Code); // 1026 bytes in 513 characters
    }
}
