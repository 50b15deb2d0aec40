// Owns: the XML documents of the S3 API this store answers with: errors, ListBuckets and the two
// ListObjects results, in the 2006-03-01 namespace and the element order S3 uses. AOT-safe (XmlWriter,
// no serializer). With encoding-type=url (the aws CLI asks for it) keys and prefixes are URL-encoded
// as S3 does it (space as '+'), which also carries keys holding characters XML cannot.
using System.Globalization;
using System.Net;
using System.Text;
using System.Xml;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.S3;

public static class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
    public const string ContentType = "application/xml";

    /// <summary>The one region this store is: clients sign for it (or for any name they like; the signature check accepts any).</summary>
    public const string Region = "us-east-1";

    private static readonly XmlWriterSettings s_settings = new() { Encoding = new UTF8Encoding(false), Indent = false };

    public static byte[] Error(S3Error error, string resource, string requestId) => Write(w =>
    {
        w.WriteStartElement("Error");
        w.WriteElementString("Code", error.Code);
        w.WriteElementString("Message", error.Message);
        w.WriteElementString("Resource", resource);
        w.WriteElementString("RequestId", requestId);
        w.WriteEndElement();
    });

    public static byte[] ListBuckets(IEnumerable<BucketRecord> buckets, string ownerId) => Write(w =>
    {
        w.WriteStartElement("ListAllMyBucketsResult", Namespace);
        w.WriteStartElement("Owner");
        w.WriteElementString("ID", ownerId);
        w.WriteElementString("DisplayName", ownerId);
        w.WriteEndElement();
        w.WriteStartElement("Buckets");
        foreach (BucketRecord bucket in buckets)
        {
            w.WriteStartElement("Bucket");
            w.WriteElementString("Name", bucket.Name);
            w.WriteElementString("CreationDate", Timestamp(bucket.CreatedUnixMs));
            w.WriteEndElement();
        }

        w.WriteEndElement();
        w.WriteEndElement();
    });

    /// <summary>GetBucketLocation's answer: empty, which S3 means as us-east-1.</summary>
    public static byte[] BucketLocation() => Write(w =>
    {
        w.WriteStartElement("LocationConstraint", Namespace);
        w.WriteEndElement();
    });

    /// <summary>ListObjectsV2's result for one page.</summary>
    public static byte[] ListObjectsV2(string bucket, ListRequest request, ListPage page, bool urlEncoding) => Write(w =>
    {
        Func<string, string> encode = urlEncoding ? UrlEncode : s => s;
        w.WriteStartElement("ListBucketResult", Namespace);
        w.WriteElementString("Name", bucket);
        w.WriteElementString("Prefix", encode(request.Prefix));
        w.WriteElementString("KeyCount", (page.Contents.Count + page.CommonPrefixes.Count).ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("MaxKeys", Math.Clamp(request.MaxKeys, 0, ObjectListing.MaxKeysLimit).ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(request.Delimiter))
        {
            w.WriteElementString("Delimiter", encode(request.Delimiter));
        }

        w.WriteElementString("IsTruncated", page.IsTruncated ? "true" : "false");
        Optional(w, "ContinuationToken", request.ContinuationToken);
        Optional(w, "NextContinuationToken", page.NextContinuationToken);
        Optional(w, "StartAfter", request.StartAfter is null ? null : encode(request.StartAfter));
        Optional(w, "EncodingType", urlEncoding ? "url" : null);
        WriteEntries(w, page, encode);
        w.WriteEndElement();
    });

    /// <summary>ListObjects (v1)'s result for one page; NextMarker only with a delimiter, as S3 does.</summary>
    public static byte[] ListObjectsV1(string bucket, ListRequest request, ListPage page, bool urlEncoding) => Write(w =>
    {
        Func<string, string> encode = urlEncoding ? UrlEncode : s => s;
        w.WriteStartElement("ListBucketResult", Namespace);
        w.WriteElementString("Name", bucket);
        w.WriteElementString("Prefix", encode(request.Prefix));
        w.WriteElementString("Marker", encode(request.StartAfter ?? string.Empty));
        w.WriteElementString("MaxKeys", Math.Clamp(request.MaxKeys, 0, ObjectListing.MaxKeysLimit).ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(request.Delimiter))
        {
            w.WriteElementString("Delimiter", encode(request.Delimiter));
        }

        w.WriteElementString("IsTruncated", page.IsTruncated ? "true" : "false");
        Optional(w, "NextMarker", string.IsNullOrEmpty(request.Delimiter) || page.NextMarker is null ? null : encode(page.NextMarker));
        Optional(w, "EncodingType", urlEncoding ? "url" : null);
        WriteEntries(w, page, encode);
        w.WriteEndElement();
    });

    /// <summary>ISO 8601 with milliseconds, as S3 writes LastModified and CreationDate.</summary>
    public static string Timestamp(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>S3's encoding-type=url: form-style (space as '+'), upper-case hex, '/' encoded too.</summary>
    public static string UrlEncode(string value) => WebUtility.UrlEncode(value);

    private static void WriteEntries(XmlWriter w, ListPage page, Func<string, string> encode)
    {
        foreach (ObjectVersion version in page.Contents)
        {
            w.WriteStartElement("Contents");
            w.WriteElementString("Key", encode(version.Key));
            w.WriteElementString("LastModified", Timestamp(version.CreatedUnixMs));
            w.WriteElementString("ETag", version.ETag);
            w.WriteElementString("Size", version.SizeBytes.ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("StorageClass", "STANDARD");
            w.WriteEndElement();
        }

        foreach (string prefix in page.CommonPrefixes)
        {
            w.WriteStartElement("CommonPrefixes");
            w.WriteElementString("Prefix", encode(prefix));
            w.WriteEndElement();
        }
    }

    private static void Optional(XmlWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteElementString(name, value);
        }
    }

    private static byte[] Write(Action<XmlWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, s_settings))
        {
            writer.WriteStartDocument();
            body(writer);
            writer.WriteEndDocument();
        }

        return stream.ToArray();
    }
}
