// Owns: the XML documents of the S3 API this store answers with: errors, ListBuckets and the two
// ListObjects results, in the 2006-03-01 namespace and the element order S3 uses. AOT-safe (XmlWriter,
// no serializer). With encoding-type=url (botocore and the aws CLI ask for it) keys and prefixes are
// percent-encoded as S3 does it ('/' kept, space as %20), which also carries keys XML cannot.
using System.Globalization;
using System.Text;
using System.Xml;
using O3Storage.Cluster.Metadata;
using O3Storage.Node.Auth;

namespace O3Storage.Node.S3;

/// <summary>One object a DeleteObjects request names: its key and, when given, the version to delete.</summary>
public readonly record struct DeleteEntry(string Key, string? VersionId);

public static class S3Xml
{
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";
    public const string ContentType = "application/xml";

    /// <summary>The version id S3 gives an object written while its bucket's versioning was off.</summary>
    public const string NullVersionId = "null";

    /// <summary>The one region this store is: clients sign for it (or for any name they like; the signature check accepts any).</summary>
    public const string Region = "us-east-1";

    // Entitize: a carriage return in a key is written as &#xD;, which a parser keeps (a raw one it would read as a
    // line feed). CheckCharacters off: a key with a control character XML 1.0 cannot carry is written as a
    // character reference, as S3 writes it, not a 500 (clients that cannot read it ask for encoding-type=url).
    private static readonly XmlWriterSettings s_settings = new() { Encoding = new UTF8Encoding(false), Indent = false, NewLineHandling = NewLineHandling.Entitize, CheckCharacters = false };
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

    /// <summary>ListBuckets' answer: one page, with the token for the next when there are more (S3's max-buckets pagination).</summary>
    public static byte[] ListBuckets(IEnumerable<BucketRecord> buckets, string ownerId, string? prefix, string? continuationToken) => Write(w =>
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
            w.WriteElementString("BucketRegion", Region);
            w.WriteEndElement();
        }

        w.WriteEndElement();
        Optional(w, "ContinuationToken", continuationToken);
        Optional(w, "Prefix", prefix);
        w.WriteEndElement();
    });

    /// <summary>GetBucketLocation's answer: empty, which S3 means as us-east-1.</summary>
    public static byte[] BucketLocation() => Write(w =>
    {
        w.WriteStartElement("LocationConstraint", Namespace);
        w.WriteEndElement();
    });

    /// <summary>ListObjectsV2's result for one page; each entry names its owner only when asked (fetch-owner).</summary>
    public static byte[] ListObjectsV2(string bucket, ListRequest request, ListPage page, bool urlEncoding, string? ownerId) => Write(w =>
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
        WriteEntries(w, page, encode, ownerId);
        w.WriteEndElement();
    });

    /// <summary>ListObjects (v1)'s result for one page; NextMarker only with a delimiter, and every entry's owner, as S3 does.</summary>
    public static byte[] ListObjectsV1(string bucket, ListRequest request, ListPage page, bool urlEncoding, string ownerId) => Write(w =>
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
        WriteEntries(w, page, encode, ownerId);
        w.WriteEndElement();
    });

    /// <summary>
    /// ListObjectVersions' result for one page of a bucket without versioning: each object is its one
    /// version, "null", the latest; the page resumes after <see cref="ListPage.NextMarker"/> (NextKeyMarker).
    /// </summary>
    public static byte[] ListObjectVersions(string bucket, ListRequest request, string versionIdMarker, ListPage page, bool urlEncoding, string ownerId) => Write(w =>
    {
        Func<string, string> encode = urlEncoding ? UrlEncode : s => s;
        w.WriteStartElement("ListVersionsResult", Namespace);
        w.WriteElementString("Name", bucket);
        w.WriteElementString("Prefix", encode(request.Prefix));
        w.WriteElementString("KeyMarker", encode(request.StartAfter ?? string.Empty));
        w.WriteElementString("VersionIdMarker", versionIdMarker);
        if (page.IsTruncated)
        {
            w.WriteElementString("NextKeyMarker", encode(page.NextMarker!));
            w.WriteElementString("NextVersionIdMarker", NullVersionId);
        }

        w.WriteElementString("MaxKeys", Math.Clamp(request.MaxKeys, 0, ObjectListing.MaxKeysLimit).ToString(CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(request.Delimiter))
        {
            w.WriteElementString("Delimiter", encode(request.Delimiter));
        }

        w.WriteElementString("IsTruncated", page.IsTruncated ? "true" : "false");
        foreach (ObjectVersion version in page.Contents)
        {
            w.WriteStartElement("Version");
            w.WriteElementString("Key", encode(version.Key));
            w.WriteElementString("VersionId", NullVersionId);
            w.WriteElementString("IsLatest", "true");
            w.WriteElementString("LastModified", Timestamp(version.CreatedUnixMs));
            w.WriteElementString("ETag", version.ETag);
            w.WriteElementString("Size", version.SizeBytes.ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("StorageClass", "STANDARD");
            WriteOwner(w, "Owner", ownerId);
            w.WriteEndElement();
        }

        WriteCommonPrefixes(w, page, encode);
        Optional(w, "EncodingType", urlEncoding ? "url" : null);
        w.WriteEndElement();
    });

    /// <summary>GetBucketVersioning's answer for a bucket versioning was never enabled on: no Status at all, as S3 answers.</summary>
    public static byte[] VersioningNeverEnabled() => Write(w =>
    {
        w.WriteStartElement("VersioningConfiguration", Namespace);
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
    public static byte[] DeleteResult(IEnumerable<DeleteEntry> deleted, IEnumerable<(string Key, S3Error Error)> errors, bool quiet) => Write(w =>
    {
        w.WriteStartElement("DeleteResult", Namespace);
        foreach (DeleteEntry entry in quiet ? [] : deleted)
        {
            w.WriteStartElement("Deleted");
            w.WriteElementString("Key", entry.Key);
            Optional(w, "VersionId", entry.VersionId);
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
    /// Reads a DeleteObjects request body: its objects (key, and version id when named) in order, and Quiet. Null when it is not the
    /// document S3 expects (the caller answers MalformedXML); no DTDs, no external entities.
    /// </summary>
    public static (List<DeleteEntry> Objects, bool Quiet)? ParseDelete(byte[] body)
    {
        var objects = new List<(string? Key, string? VersionId)>();
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
                    case "Object" when reader.Depth == 1:
                        objects.Add((null, null));
                        break;
                    case "Key" when reader.Depth == 2 && objects.Count > 0:
                        objects[^1] = (reader.ReadElementContentAsString(), objects[^1].VersionId);
                        positioned = true;
                        break;
                    case "VersionId" when reader.Depth == 2 && objects.Count > 0:
                        objects[^1] = (objects[^1].Key, reader.ReadElementContentAsString());
                        positioned = true;
                        break;
                }
            }
        }
        catch (XmlException)
        {
            return null;
        }

        return objects.Any(o => o.Key is null) ? null : ([.. objects.Select(o => new DeleteEntry(o.Key!, o.VersionId))], quiet);
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

    /// <summary>
    /// S3's encoding-type=url: UTF-8 bytes as upper-case %XX except A-Z a-z 0-9 - . _ ~ and '/' (space is
    /// %20, '+' is %2B), which a client decodes alike with form rules (botocore) or without (Go, .NET).
    /// </summary>
    public static string UrlEncode(string value) => SigV4.UriEncode(value, encodeSlash: false);

    private static void WriteEntries(XmlWriter w, ListPage page, Func<string, string> encode, string? ownerId)
    {
        foreach (ObjectVersion version in page.Contents)
        {
            w.WriteStartElement("Contents");
            w.WriteElementString("Key", encode(version.Key));
            w.WriteElementString("LastModified", Timestamp(version.CreatedUnixMs));
            w.WriteElementString("ETag", version.ETag);
            w.WriteElementString("Size", version.SizeBytes.ToString(CultureInfo.InvariantCulture));
            w.WriteElementString("StorageClass", "STANDARD");
            if (ownerId is not null)
            {
                WriteOwner(w, "Owner", ownerId);
            }

            w.WriteEndElement();
        }

        WriteCommonPrefixes(w, page, encode);
    }

    private static void WriteCommonPrefixes(XmlWriter w, ListPage page, Func<string, string> encode)
    {
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
