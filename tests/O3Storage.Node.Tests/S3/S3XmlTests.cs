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
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListBuckets([new BucketRecord("a", 1_764_115_200_123, 3), new BucketRecord("b", 0, 4)], "O3ABC", null, null))).Root!;
        Assert.Equal(s_s3 + "ListAllMyBucketsResult", root.Name);
        Assert.Equal("O3ABC", root.Element(s_s3 + "Owner")!.Element(s_s3 + "ID")!.Value);
        Assert.Equal(
            [("a", "2025-11-26T00:00:00.123Z"), ("b", "1970-01-01T00:00:00.000Z")],
            root.Element(s_s3 + "Buckets")!.Elements(s_s3 + "Bucket").Select(b => (b.Element(s_s3 + "Name")!.Value, b.Element(s_s3 + "CreationDate")!.Value)));
    }

    [Fact]
    public void ListBuckets_SaysWhereTheNextPageStartsAndThePrefixAsked()
    {
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListBuckets([new BucketRecord("ab", 0, 3)], "O3ABC", "a", "YjphYg"))).Root!;
        Assert.Equal(("YjphYg", "a", "us-east-1"), (root.Element(s_s3 + "ContinuationToken")!.Value, root.Element(s_s3 + "Prefix")!.Value,
            root.Element(s_s3 + "Buckets")!.Element(s_s3 + "Bucket")!.Element(s_s3 + "BucketRegion")!.Value));
        XElement last = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListBuckets([], "O3ABC", null, null))).Root!;
        Assert.Null(last.Element(s_s3 + "ContinuationToken"));
        Assert.Null(last.Element(s_s3 + "Prefix"));
    }

    [Fact]
    public void ListObjectsV2_CarriesThePageAndUrlEncodesWhenAsked()
    {
        var request = new ListRequest("dir a/", "/", null, null, 2);
        var page = new ListPage([Version("dir a/ünï b.txt", 11)], ["dir a/sub/"], true, "dG9rZW4", "dir a/sub/");
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV2("bucket", request, page, urlEncoding: true, ownerId: null))).Root!;

        string Value(string name) => root.Element(s_s3 + name)!.Value;
        Assert.Equal(("bucket", "dir%20a/", "/", "2", "2", "true", "dG9rZW4", "url"), (Value("Name"), Value("Prefix"), Value("Delimiter"), Value("KeyCount"), Value("MaxKeys"), Value("IsTruncated"), Value("NextContinuationToken"), Value("EncodingType")));
        XElement contents = root.Element(s_s3 + "Contents")!;
        Assert.Equal("dir%20a/%C3%BCn%C3%AF%20b.txt", contents.Element(s_s3 + "Key")!.Value);
        Assert.Equal(("2025-11-26T00:00:00.123Z", "\"9b2cf535f27731c974343645a3985328\"", "11", "STANDARD"),
            (contents.Element(s_s3 + "LastModified")!.Value, contents.Element(s_s3 + "ETag")!.Value, contents.Element(s_s3 + "Size")!.Value, contents.Element(s_s3 + "StorageClass")!.Value));
        Assert.Null(contents.Element(s_s3 + "Owner")); // v2 names owners only when asked (fetch-owner)
        Assert.Equal("dir%20a/sub/", root.Element(s_s3 + "CommonPrefixes")!.Element(s_s3 + "Prefix")!.Value);
        Assert.Equal("dir a/ünï b.txt", Uri.UnescapeDataString(contents.Element(s_s3 + "Key")!.Value));
    }

    [Theory]
    [InlineData("asdf+b", "asdf%2Bb")] // s3-tests' test_bucket_listv2_encoding_basic: '+' is not a space
    [InlineData("quux ab/", "quux%20ab/")]
    [InlineData("a%b\nc", "a%25b%0Ac")]
    [InlineData("100% done/~x_y-z.txt", "100%25%20done/~x_y-z.txt")]
    public void UrlEncoding_KeepsSlashesAndEncodesWhatFormAndPlainDecodersReadAlike(string key, string encoded)
    {
        Assert.Equal(encoded, S3Xml.UrlEncode(key));
        Assert.Equal(key, Uri.UnescapeDataString(encoded));
        Assert.Equal(key, System.Net.WebUtility.UrlDecode(encoded)); // form rules, as botocore's unquote_plus
    }

    [Fact]
    public void KeysWithLineBreaksAndControlCharacters_SurviveAListingWithoutEncoding()
    {
        var page = new ListPage([Version("a\rb\r\nc\nd", 1), Version("bell\u0007", 1)], [], false, null, null);
        string xml = Encoding.UTF8.GetString(S3Xml.ListObjectsV2("b", new ListRequest("", null, null, null, 10), page, false, null));
        Assert.Contains("a&#xD;b&#xD;", xml, StringComparison.Ordinal);
        Assert.Contains("bell&#x7;", xml, StringComparison.Ordinal); // as S3 writes it; XML 1.0 parsers refuse it, hence encoding-type=url
        string carried = XDocument.Parse(xml.Replace("bell&#x7;", "bell", StringComparison.Ordinal)).Root!.Element(s_s3 + "Contents")!.Element(s_s3 + "Key")!.Value;
        Assert.Equal("a\rb\r\nc\nd", carried);
    }

    [Fact]
    public void ListObjectVersions_GivesEachObjectAsItsOneNullVersion_AndWhereTheNextPageStarts()
    {
        var page = new ListPage([Version("a b", 3)], ["d/"], true, "t", "d/");
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectVersions("bkt", new ListRequest("", "/", "0", null, 2), "null", page, true, "O3KEY"))).Root!;
        string Value(string name) => root.Element(s_s3 + name)!.Value;
        Assert.Equal(s_s3 + "ListVersionsResult", root.Name);
        Assert.Equal(("bkt", "0", "null", "d/", "null", "true", "url"), (Value("Name"), Value("KeyMarker"), Value("VersionIdMarker"), Value("NextKeyMarker"), Value("NextVersionIdMarker"), Value("IsTruncated"), Value("EncodingType")));
        XElement version = root.Element(s_s3 + "Version")!;
        Assert.Equal(("a%20b", "null", "true", "3", "O3KEY"), (version.Element(s_s3 + "Key")!.Value, version.Element(s_s3 + "VersionId")!.Value,
            version.Element(s_s3 + "IsLatest")!.Value, version.Element(s_s3 + "Size")!.Value, version.Element(s_s3 + "Owner")!.Element(s_s3 + "ID")!.Value));
        Assert.Equal("d/", root.Element(s_s3 + "CommonPrefixes")!.Element(s_s3 + "Prefix")!.Value);
        Assert.Null(root.Element(s_s3 + "DeleteMarker"));

        XElement last = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectVersions("bkt", new ListRequest("", null, null, null, 2), "", new ListPage([], [], false, null, null), false, "O3KEY"))).Root!;
        Assert.Null(last.Element(s_s3 + "NextKeyMarker"));
        Assert.Null(last.Element(s_s3 + "EncodingType"));
    }

    [Fact]
    public void ListObjects_NameOwnersInV1AlwaysAndInV2WhenAsked()
    {
        var page = new ListPage([Version("a", 1)], [], false, null, null);
        var request = new ListRequest("", null, null, null, 1);
        foreach (byte[] xml in new[] { S3Xml.ListObjectsV1("b", request, page, false, "O3KEY"), S3Xml.ListObjectsV2("b", request, page, false, "O3KEY") })
        {
            XElement owner = XDocument.Parse(Encoding.UTF8.GetString(xml)).Root!.Element(s_s3 + "Contents")!.Element(s_s3 + "Owner")!;
            Assert.Equal(("O3KEY", "O3KEY"), (owner.Element(s_s3 + "ID")!.Value, owner.Element(s_s3 + "DisplayName")!.Value));
        }
    }

    [Fact]
    public void ListObjectsV2_EchoesAnEmptyContinuationToken()
    {
        var page = new ListPage([], [], false, null, null);
        XElement root = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV2("b", new ListRequest("", null, null, "", 5), page, false, null))).Root!;
        Assert.Equal(string.Empty, root.Element(s_s3 + "ContinuationToken")!.Value);
    }

    [Fact]
    public void ListObjectsV1_GivesNextMarkerOnlyWithADelimiter()
    {
        var page = new ListPage([Version("a", 1)], [], true, "t", "a");
        XElement plain = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV1("b", new ListRequest("", null, "0", null, 1), page, false, "O3KEY"))).Root!;
        Assert.Null(plain.Element(s_s3 + "NextMarker"));
        Assert.Equal("0", plain.Element(s_s3 + "Marker")!.Value);

        XElement delimited = XDocument.Parse(Encoding.UTF8.GetString(S3Xml.ListObjectsV1("b", new ListRequest("", "/", null, null, 1), page, false, "O3KEY"))).Root!;
        Assert.Equal("a", delimited.Element(s_s3 + "NextMarker")!.Value);
    }
}
