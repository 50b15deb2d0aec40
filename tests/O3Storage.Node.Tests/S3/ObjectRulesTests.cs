using System.Security.Cryptography;
using System.Text;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Api;
using O3Storage.Node.S3;

namespace O3Storage.Node.Tests.S3;

public sealed class ObjectRulesTests
{
    [Theory]
    [InlineData("bytes=0-9", 100, 0, 10, true)]
    [InlineData("bytes=90-", 100, 90, 10, true)]
    [InlineData("bytes=90-200", 100, 90, 10, true)]
    [InlineData("bytes=-10", 100, 90, 10, true)]
    [InlineData("bytes=-500", 100, 0, 100, true)]
    [InlineData("bytes=100-", 100, 0, 0, false)]
    [InlineData("bytes=0-0", 0, 0, 0, false)]
    [InlineData("bytes=-0", 100, 0, 0, false)]
    public void Range_ParsesLikeS3(string header, long size, long offset, long count, bool satisfiable) =>
        Assert.Equal((offset, count, satisfiable), S3Endpoints.ParseRange(header, size));

    [Theory]
    [InlineData("bytes=0-9,20-29")]
    [InlineData("items=0-9")]
    [InlineData("bytes=9-0")]
    [InlineData("bytes=a-b")]
    [InlineData("bytes=")]
    public void Range_IgnoresWhatItCannotServe_AsS3Does(string header) => Assert.Null(S3Endpoints.ParseRange(header, 100));

    [Theory]
    [InlineData("/src/a/b.txt", "src", "a/b.txt")]
    [InlineData("src/a%20b.txt", "src", "a b.txt")]
    [InlineData("src/k?versionId=null", "src", "k")]
    public void CopySource_Parses(string header, string bucket, string key) => Assert.Equal((bucket, key), S3Endpoints.ParseCopySource(header));

    [Theory]
    [InlineData("")]
    [InlineData("src")]
    [InlineData("/src/")]
    public void CopySource_RefusesWhatNamesNoObject(string header) => Assert.Null(S3Endpoints.ParseCopySource(header));

    [Theory]
    [InlineData("/b/k", null, false)]
    [InlineData("/b/k?versionId=null", "null", false)]
    [InlineData("/b/k?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", true)]
    public void AVersionOtherThanNull_IsOneABucketWithoutVersioningDoesNotHave(string header, string? version, bool another)
    {
        Assert.Equal(version, S3Endpoints.CopySourceVersion(header));
        Assert.Equal(another, S3Endpoints.NamesAnotherVersion(version));
    }

    private static UploadedPart Part(int number, long size, string replicas = "n1,n2,n3") =>
        new(number, $"\"{Convert.ToHexStringLower(MD5.HashData(BitConverter.GetBytes(number)))}\"", size, 0, [new BlobRef((UInt128)number, size, 0)], [.. replicas.Split(',')]);

    private static MultipartUpload Upload(params UploadedPart[] parts) =>
        new("u", "key", 0, "text/plain", [KeyValuePair.Create("a", "b")], MultipartUpload.NoParts.AddRange(parts.Select(p => KeyValuePair.Create(p.PartNumber, p))));

    [Fact]
    public void Assemble_StringsChosenPartsTogether_WithS3sMultipartETag()
    {
        MultipartUpload upload = Upload(Part(1, 5 << 20), Part(2, 5 << 20, "n2,n3"), Part(3, 10));
        ObjectVersion version = S3Endpoints.Assemble(upload, [(1, upload.Parts[1].ETag), (3, upload.Parts[3].ETag.Trim('"'))], 7)!;

        byte[] joined = [.. MD5.HashData(BitConverter.GetBytes(1)), .. MD5.HashData(BitConverter.GetBytes(3))];
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(joined))}-2\"", version.ETag);
        Assert.Equal((5L << 20) + 10, version.SizeBytes);
        Assert.Equal([(UInt128)1, (UInt128)3], version.Blobs.Select(b => b.BlobId));
        Assert.Equal(["n1", "n2", "n3"], version.Replicas.ToArray());
        Assert.Equal(("key", "text/plain", 7L), (version.Key, version.ContentType, version.CreatedUnixMs));

        // Replicas are those holding every chosen part.
        Assert.Equal(["n2", "n3"], S3Endpoints.Assemble(upload, [(1, upload.Parts[1].ETag), (2, upload.Parts[2].ETag)], 7)!.Replicas.ToArray());
    }

    [Fact]
    public void Assemble_RefusesBadChoices()
    {
        MultipartUpload upload = Upload(Part(1, 5 << 20), Part(2, 100), Part(3, 10), Part(4, 5, "n9"));
        string E(int n) => upload.Parts[n].ETag;
        Assert.Null(S3Endpoints.Assemble(upload, [(2, E(2)), (1, E(1))], 0)); // order
        Assert.Null(S3Endpoints.Assemble(upload, [(1, E(1)), (7, E(1))], 0)); // unknown part
        Assert.Null(S3Endpoints.Assemble(upload, [(1, E(2))], 0)); // wrong ETag
        Assert.Null(S3Endpoints.Assemble(upload, [(2, E(2)), (3, E(3))], 0)); // too small, not last
        Assert.Null(S3Endpoints.Assemble(upload, [(1, E(1)), (4, E(4))], 0)); // no common replica
        Assert.NotNull(S3Endpoints.Assemble(upload, [(2, E(2))], 0)); // a small last (only) part is fine
    }

    [Fact]
    public void DeleteDocument_Parses_AndRefusesOthers()
    {
        byte[] body = Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a</Key></Object><Object><Key>b/c &amp; d</Key><VersionId>x</VersionId></Object><Quiet>true</Quiet></Delete>");
        (List<DeleteEntry> objects, bool quiet) = S3Xml.ParseDelete(body)!.Value;
        Assert.Equal([new DeleteEntry("a", null), new DeleteEntry("b/c & d", "x")], objects);
        Assert.True(quiet);
        Assert.Equal([new DeleteEntry("k", "v")], S3Xml.ParseDelete(Encoding.UTF8.GetBytes("<Delete><Object><VersionId>v</VersionId><Key>k</Key></Object></Delete>"))!.Value.Objects);
        Assert.Null(S3Xml.ParseDelete(Encoding.UTF8.GetBytes("<Delete><Object><VersionId>v</VersionId></Object></Delete>"))); // an object without a key
        Assert.Null(S3Xml.ParseDelete(Encoding.UTF8.GetBytes("<Delete><Object><Key>a</Key>")));
        Assert.Null(S3Xml.ParseDelete(Encoding.UTF8.GetBytes("<Other/>")));
        Assert.Null(S3Xml.ParseDelete(Encoding.UTF8.GetBytes("<!DOCTYPE d [<!ENTITY x \"y\">]><Delete><Object><Key>&x;</Key></Object></Delete>")));
    }

    [Fact]
    public void CompleteDocument_Parses_AndRefusesOthers()
    {
        byte[] body = Encoding.UTF8.GetBytes("<CompleteMultipartUpload><Part><ETag>\"e1\"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part></CompleteMultipartUpload>");
        Assert.Equal([(1, "\"e1\""), (2, "e2")], S3Xml.ParseCompleteMultipartUpload(body)!);
        Assert.Null(S3Xml.ParseCompleteMultipartUpload(Encoding.UTF8.GetBytes("<CompleteMultipartUpload><Part><PartNumber>x</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>")));
        Assert.Null(S3Xml.ParseCompleteMultipartUpload(Encoding.UTF8.GetBytes("<CompleteMultipartUpload><Part><ETag>e</ETag></Part></CompleteMultipartUpload>")));
        Assert.Null(S3Xml.ParseCompleteMultipartUpload(Encoding.UTF8.GetBytes("not xml")));
    }

    [Fact]
    public void RequestBodies_AreUtf8_AndTheirDeclaredEncodingIsNotActedOn()
    {
        // Found by ParserFuzzTests.S3XmlBodies: a malformed encoding declaration made XmlReader throw
        // ArgumentOutOfRangeException while switching decoders, which the parsers did not catch.
        byte[] broken = Convert.FromBase64String("PD94bWwgdmVyc2lvbj0iMS4woiBlbmNvZGluZz1KVVRGLTgiPz4=");
        Assert.Null(S3Xml.ParseDelete(broken));
        Assert.Null(S3Xml.ParseCompleteMultipartUpload(broken));

        Assert.Null(S3Xml.ParseDelete([.. Encoding.UTF8.GetBytes("<Delete><Object><Key>"), 0xFF, .. Encoding.UTF8.GetBytes("</Key></Object></Delete>")]));
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"UTF-16\"?><Delete><Object><Key>\u00e9t\u00e9</Key></Object></Delete>")];
        Assert.Equal([new DeleteEntry("\u00e9t\u00e9", null)], S3Xml.ParseDelete(withBom)!.Value.Objects);
    }
}
