using System.Text;
using System.Xml.Linq;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

public sealed class S3XmlTests
{
    private static readonly XNamespace s_s3 = S3Xml.Namespace;

    private static ObjectVersion Version(string key, long size) => new(key, 7, size, "\"9b2cf535f27731c974343645a3985328\"", "text/plain", 1_764_115_200_123, [], [], []);

    [Fact]
    public void Error_HasTheS3Shape()
    {
        byte[] xml = S3Xml.Error(S3Error.NoSuchKey("a/b.txt"), "/bucket/a/b.txt", "req-1");
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>NoSuchKey</Code>", Encoding.UTF8.GetString(xml));
        XElement error = XDocument.Parse(Encoding.UTF8.GetString(xml)).Root!;
        Assert.Equal(("NoSuchKey", "/bucket/a/b.txt", "req-1"), (error.Element("Code")!.Value, error.Element("Resource")!.Value, error.Element("RequestId")!.Value));
    }

    [Fact]
    public void ListBuckets_NamesEveryBucketWithItsCreationDate()
    {
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListBuckets([new BucketRecord("a", 1_764_115_200_123, 3), new BucketRecord("b", 0, 4)], "O3ABC"))).Root!;
        Assert.Equal(s_s3 + "ListAllMyBucketsResult", root.Name);
        Assert.Equal("O3ABC", root.Element(s_s3 + "Owner")!.Element(s_s3 + "ID")!.Value);
        Assert.Equal(
            [("a", "2025-11-26T00:00:00.123Z"), ("b", "1970-01-01T00:00:00.000Z")],
            root.Element(s_s3 + "Buckets")!.Elements(s_s3 + "Bucket").Select(b => (b.Element(s_s3 + "Name")!.Value, b.Element(s_s3 + "CreationDate")!.Value)));
    }

    [Fact]
    public void ListObjectsV2_CarriesThePageAndUrlEncodesWhenAsked()
    {
        var request = new ListRequest("dir a/", "/", null, null, 2);
        var page = new ListPage([Version("dir a/ünï b.txt", 11)], ["dir a/sub/"], true, "dG9rZW4", "dir a/sub/");
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV2("bucket", request, page, urlEncoding: true))).Root!;

        string Value(string name) => root.Element(s_s3 + name)!.Value;
        Assert.Equal(("bucket", "dir+a%2F", "2", "2", "true", "dG9rZW4", "url"), (Value("Name"), Value("Prefix"), Value("KeyCount"), Value("MaxKeys"), Value("IsTruncated"), Value("NextContinuationToken"), Value("EncodingType")));
        XElement contents = root.Element(s_s3 + "Contents")!;
        Assert.Equal("dir+a%2F%C3%BCn%C3%AF+b.txt", contents.Element(s_s3 + "Key")!.Value);
        Assert.Equal(("2025-11-26T00:00:00.123Z", "\"9b2cf535f27731c974343645a3985328\"", "11", "STANDARD"),
            (contents.Element(s_s3 + "LastModified")!.Value, contents.Element(s_s3 + "ETag")!.Value, contents.Element(s_s3 + "Size")!.Value, contents.Element(s_s3 + "StorageClass")!.Value));
        Assert.Equal("dir+a%2Fsub%2F", root.Element(s_s3 + "CommonPrefixes")!.Element(s_s3 + "Prefix")!.Value);
        Assert.Equal("dir a/ünï b.txt", Uri.UnescapeDataString(contents.Element(s_s3 + "Key")!.Value.Replace('+', ' ')));
    }

    [Fact]
    public void ListObjectsV1_GivesNextMarkerOnlyWithADelimiter()
    {
        var page = new ListPage([Version("a", 1)], [], true, "t", "a");
        XElement plain = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV1("b", new ListRequest("", null, "0", null, 1), page, false))).Root!;
        Assert.Null(plain.Element(s_s3 + "NextMarker"));
        Assert.Equal("0", plain.Element(s_s3 + "Marker")!.Value);

        XElement delimited = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV1("b", new ListRequest("", "/", null, null, 1), page, false))).Root!;
        Assert.Equal("a", delimited.Element(s_s3 + "NextMarker")!.Value);
    }
}
