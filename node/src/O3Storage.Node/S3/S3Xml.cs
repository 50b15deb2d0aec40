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
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly XmlReaderSettings s_readSettings = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true, IgnoreWhitespace = true };

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

    /// <summary>GetObjectTagging's answer: this store keeps no tags, so the set is always empty.</summary>
    public static byte[] EmptyTagging() => Write(w =>
    {
        w.WriteStartElement("Tagging", Namespace);
        w.WriteStartElement("TagSet");
        w.WriteEndElement();
        w.WriteEndElement();
    });

    /// <summary>CopyObject's (and UploadPartCopy's) answer.</summary>
    public static byte[] CopyResult(string element, string etag, long unixMs) => Write(w =>
    {
        w.WriteStartElement(element, Namespace);
        w.WriteElementString("LastModified", Timestamp(unixMs));
        w.WriteElementString("ETag", etag);
        w.WriteEndElement();
    });

    /// <summary>DeleteObjects' answer: each key deleted (unless quiet) and each key that failed, with its error.</summary>
    public static byte[] DeleteResult(IEnumerable<string> deleted, IEnumerable<(string Key, S3Error Error)> errors, bool quiet) => Write(w =>
    {
        w.WriteStartElement("DeleteResult", Namespace);
        foreach (string key in quiet ? [] : deleted)
        {
            w.WriteStartElement("Deleted");
            w.WriteElementString("Key", key);
            w.WriteEndElement();
        }

        foreach ((string key, S3Error error) in errors)
        {
            w.WriteStartElement("Error");
            w.WriteElementString("Key", key);
            w.WriteElementString("Code", error.Code);
            w.WriteElementString("Message", error.Message);
            w.WriteEndElement();
        }

        w.WriteEndElement();
    });

    /// <summary>
    /// Reads a DeleteObjects request body: its keys in order and Quiet. Null when it is not the
    /// document S3 expects (the caller answers MalformedXML); no DTDs, no external entities.
    /// </summary>
    public static (List<string> Keys, bool Quiet)? ParseDelete(byte[] body)
    {
        var keys = new List<string>();
        bool quiet = false;
        try
        {
            using XmlReader? reader = OpenRequest(body);
            if (reader is null || reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "Delete")
            {
                return null;
            }

            bool positioned = false; // ReadElementContentAsString leaves the reader on the next node already
            while (positioned || reader.Read())
            {
                positioned = false;
                if (reader.NodeType != XmlNodeType.Element)
                {
                    continue;
                }

                switch (reader.LocalName)
                {
                    case "Quiet" when reader.Depth == 1:
                        quiet = reader.ReadElementContentAsString().Trim() == "true";
                        positioned = true;
                        break;
                    case "Key" when reader.Depth == 2:
                        keys.Add(reader.ReadElementContentAsString());
                        positioned = true;
                        break;
                }
            }
        }
        catch (XmlException)
        {
            return null;
        }

        return (keys, quiet);
    }

    public static byte[] InitiateMultipartUpload(string bucket, string key, string uploadId) => Write(w =>
    {
        w.WriteStartElement("InitiateMultipartUploadResult", Namespace);
        w.WriteElementString("Bucket", bucket);
        w.WriteElementString("Key", key);
        w.WriteElementString("UploadId", uploadId);
        w.WriteEndElement();
    });

    public static byte[] CompleteMultipartUpload(string location, string bucket, string key, string etag) => Write(w =>
    {
        w.WriteStartElement("CompleteMultipartUploadResult", Namespace);
        w.WriteElementString("Location", location);
        w.WriteElementString("Bucket", bucket);
        w.WriteElementString("Key", key);
        w.WriteElementString("ETag", etag);
        w.WriteEndElement();
    });

    /// <summary>ListParts' answer for one page of parts (those after the marker, at most maxParts).</summary>
    public static byte[] ListParts(string bucket, MultipartUpload upload, int marker, int maxParts, IReadOnlyList<UploadedPart> parts, bool truncated, string ownerId) => Write(w =>
    {
        w.WriteStartElement("ListPartsResult", Namespace);
        w.WriteElementString("Bucket", bucket);
        w.WriteElementString("Key", upload.Key);
        w.WriteElementString("UploadId", upload.UploadId);
        WriteOwner(w, "Initiator", ownerId);
        WriteOwner(w, "Owner", ownerId);
        w.WriteElementString("StorageClass", "STANDARD");
        w.WriteElementString("PartNumberMarker", marker.ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("NextPartNumberMarker", (parts.Count > 0 ? parts[^1].PartNumber : marker).ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("MaxParts", maxParts.ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("IsTruncated", truncated ? "true" : "false");
        foreach (UploadedPart part in parts)
        {
            w.WriteStartElement("Part");
            w.WriteElementString("PartNumber", part.PartNumber.ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("LastModified", Timestamp(part.LastModifiedUnixMs));
            w.WriteElementString("ETag", part.ETag);
            w.WriteElementString("Size", part.SizeBytes.ToString(CultureInfo.InvariantCulture));
            w.WriteEndElement();
        }

        w.WriteEndElement();
    });

    /// <summary>ListMultipartUploads' answer for one page.</summary>
    public static byte[] ListMultipartUploads(string bucket, string prefix, string keyMarker, string uploadIdMarker, int maxUploads, IReadOnlyList<MultipartUpload> uploads, bool truncated, string ownerId) => Write(w =>
    {
        w.WriteStartElement("ListMultipartUploadsResult", Namespace);
        w.WriteElementString("Bucket", bucket);
        w.WriteElementString("KeyMarker", keyMarker);
        w.WriteElementString("UploadIdMarker", uploadIdMarker);
        w.WriteElementString("NextKeyMarker", uploads.Count > 0 ? uploads[^1].Key : string.Empty);
        w.WriteElementString("NextUploadIdMarker", uploads.Count > 0 ? uploads[^1].UploadId : string.Empty);
        w.WriteElementString("Prefix", prefix);
        w.WriteElementString("MaxUploads", maxUploads.ToString(CultureInfo.InvariantCulture));
        w.WriteElementString("IsTruncated", truncated ? "true" : "false");
        foreach (MultipartUpload upload in uploads)
        {
            w.WriteStartElement("Upload");
            w.WriteElementString("Key", upload.Key);
            w.WriteElementString("UploadId", upload.UploadId);
            WriteOwner(w, "Initiator", ownerId);
            WriteOwner(w, "Owner", ownerId);
            w.WriteElementString("StorageClass", "STANDARD");
            w.WriteElementString("Initiated", Timestamp(upload.InitiatedUnixMs));
            w.WriteEndElement();
        }

        w.WriteEndElement();
    });

    /// <summary>
    /// Reads a CompleteMultipartUpload body: (PartNumber, ETag) pairs in document order. Null when it is
    /// not that document or a part lacks a number or ETag (the caller answers MalformedXML).
    /// </summary>
    public static List<(int PartNumber, string ETag)>? ParseCompleteMultipartUpload(byte[] body)
    {
        var parts = new List<(int, string)>();
        try
        {
            using XmlReader? reader = OpenRequest(body);
            if (reader is null || reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "CompleteMultipartUpload")
            {
                return null;
            }

            int? number = null;
            string? etag = null;
            bool inPart = false;
            bool positioned = false; // ReadElementContentAsString leaves the reader on the next node already
            while (positioned || reader.Read())
            {
                positioned = false;
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "Part" && reader.Depth == 1)
                {
                    (inPart, number, etag) = (true, null, null);
                }
                else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "Part" && reader.Depth == 1)
                {
                    if (number is null || etag is null)
                    {
                        return null;
                    }

                    parts.Add((number.Value, etag));
                    inPart = false;
                }
                else if (inPart && reader.NodeType == XmlNodeType.Element && reader.Depth == 2)
                {
                    switch (reader.LocalName)
                    {
                        case "PartNumber":
                            if (!int.TryParse(reader.ReadElementContentAsString().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int parsed))
                            {
                                return null;
                            }

                            number = parsed;
                            positioned = true;
                            continue;
                        case "ETag":
                            etag = reader.ReadElementContentAsString().Trim();
                            positioned = true;
                            continue;
                    }
                }
            }
        }
        catch (XmlException)
        {
            return null;
        }

        return parts;
    }

    /// <summary>
    /// A reader over a request body, which S3 defines as UTF-8: decoded strictly here (null when it is not
    /// UTF-8) and read as text, so an XML declaration's encoding is not acted on. Reading the bytes let
    /// XmlReader switch decoders on that declaration, and a malformed one threw ArgumentOutOfRangeException
    /// from inside it (found by ParserFuzzTests.S3XmlBodies) instead of an XmlException.
    /// </summary>
    private static XmlReader? OpenRequest(byte[] body)
    {
        string text;
        try
        {
            text = s_strictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }

        return XmlReader.Create(new StringReader(text.StartsWith('\uFEFF') ? text[1..] : text), s_readSettings);
    }

    private static void WriteOwner(XmlWriter w, string element, string ownerId)
    {
        w.WriteStartElement(element);
        w.WriteElementString("ID", ownerId);
        w.WriteElementString("DisplayName", ownerId);
        w.WriteEndElement();
    }

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
