// Owns: the listing semantics of ListObjectsV2 and ListObjects (v1) over one bucket's object index:
// prefix, delimiter (common prefixes), max-keys, start-after / marker, and continuation tokens.
// Pure: a consistent snapshot of the index in, one page out. A page seeks to where it starts (O(log n))
// and skips a whole common prefix at once, so paging through a big bucket never rescans it.
using System.Buffers.Text;
using System.Text;
using O3Storage.Cluster.Metadata;

namespace O3Storage.Node.S3;

/// <param name="StartAfter">List keys after this one (exclusive): ListObjectsV2 start-after, v1 marker.</param>
/// <param name="ContinuationToken">A token from an earlier page; wins over <paramref name="StartAfter"/>. Empty is none.</param>
public sealed record ListRequest(string Prefix, string? Delimiter, string? StartAfter, string? ContinuationToken, int MaxKeys);

/// <param name="NextContinuationToken">Set when truncated: pass it back to get the next page.</param>
/// <param name="NextMarker">Set when truncated: the last key or common prefix of this page (v1's NextMarker).</param>
public sealed record ListPage(IReadOnlyList<ObjectVersion> Contents, IReadOnlyList<string> CommonPrefixes, bool IsTruncated, string? NextContinuationToken, string? NextMarker);

public static class ObjectListing
{
    public const int MaxKeysLimit = 1000;

    /// <summary>The page, or null when the continuation token is not one this node issued (S3: InvalidArgument).</summary>
    public static ListPage? List(ObjectIndex objects, ListRequest request)
    {
        string prefix = request.Prefix;
        string? delimiter = string.IsNullOrEmpty(request.Delimiter) ? null : request.Delimiter;
        int maxKeys = Math.Clamp(request.MaxKeys, 0, MaxKeysLimit);

        // Where to start: after the continuation point (a key, or past a whole common prefix), or after start-after.
        (string from, bool inclusive) = (prefix, true);
        if (!string.IsNullOrEmpty(request.ContinuationToken))
        {
            // An empty token (continuation-token= as botocore sends ContinuationToken='') lists from the start, as S3 does.
            if (!TryDecodeToken(request.ContinuationToken, out bool isPrefix, out string marker))
            {
                return null;
            }

            (from, inclusive) = isPrefix ? PastPrefix(marker) : (marker, false);
        }
        else if (request.StartAfter is not null && Utf8OrdinalComparer.Instance.Compare(request.StartAfter, prefix) >= 0)
        {
            (from, inclusive) = (request.StartAfter, false);
        }

        if (Utf8OrdinalComparer.Instance.Compare(from, prefix) < 0)
        {
            (from, inclusive) = (prefix, true);
        }

        var contents = new List<ObjectVersion>();
        if (maxKeys == 0)
        {
            return new ListPage(contents, [], IsTruncated: false, null, null);
        }

        var commonPrefixes = new List<string>();
        string? last = null;
        bool lastIsPrefix = false;
        bool truncated = false;
        while (true)
        {
            string? skipTo = null;
            foreach (ObjectVersion version in objects.From(from, inclusive))
            {
                if (!version.Key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    break; // keys sharing the prefix are contiguous: this one is past them all
                }

                if (lastIsPrefix && version.Key.StartsWith(last!, StringComparison.Ordinal))
                {
                    continue; // still under the common prefix just listed (only where PastPrefix could not jump)
                }

                int at = delimiter is null ? -1 : version.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal);
                if (contents.Count + commonPrefixes.Count == maxKeys)
                {
                    truncated = true;
                    break;
                }

                if (at < 0)
                {
                    contents.Add(version);
                    (last, lastIsPrefix) = (version.Key, false);
                    continue;
                }

                string common = version.Key[..(at + delimiter!.Length)];
                commonPrefixes.Add(common);
                (last, lastIsPrefix) = (common, true);
                skipTo = common;
                break; // resume past every key under this common prefix
            }

            if (skipTo is null || truncated)
            {
                break;
            }

            (from, inclusive) = PastPrefix(skipTo);
        }

        return new ListPage(
            contents,
            commonPrefixes,
            truncated,
            truncated ? EncodeToken(lastIsPrefix, last!) : null,
            truncated ? last : null);
    }

    /// <summary>Where keys that start with <paramref name="prefix"/> end: its last character plus one, where that is safe.</summary>
    private static (string From, bool Inclusive) PastPrefix(string prefix)
    {
        char lastChar = prefix[^1];
        // Below the surrogates, incrementing a character moves past every string that extends the prefix.
        return lastChar < 0xD7FF
            ? (prefix[..^1] + (char)(lastChar + 1), true)
            : (prefix + "\U0010FFFF\U0010FFFF", false); // rare: a prefix ending in a character from U+D7FF up
    }

    /// <summary>
    /// The token that resumes a ListObjects (v1) listing after its marker: past the whole common prefix
    /// when the marker is one (v1's NextMarker names the last common prefix of a page), else after the key.
    /// </summary>
    public static string ResumeAfterMarker(string marker, string prefix, string? delimiter) =>
        EncodeToken(
            !string.IsNullOrEmpty(delimiter) && marker.StartsWith(prefix, StringComparison.Ordinal) && marker.EndsWith(delimiter, StringComparison.Ordinal)
                && marker.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) == marker.Length - delimiter.Length,
            marker);

    private static string EncodeToken(bool isPrefix, string marker) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes((isPrefix ? "p:" : "k:") + marker));

    private static bool TryDecodeToken(string token, out bool isPrefix, out string marker)
    {
        (isPrefix, marker) = (false, string.Empty);
        if (DecodeTokenText(token) is not { } text || text.Length < 3 || text[1] != ':' || text[0] is not ('k' or 'p'))
        {
            return false;
        }

        (isPrefix, marker) = (text[0] == 'p', text[2..]);
        return true;
    }

    /// <summary>The text a continuation token this cluster issues carries (base64url of UTF-8), or null when the token is not one.</summary>
    internal static string? DecodeTokenText(string token)
    {
        if (token.Length == 0 || !token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return null;
        }

        byte[] bytes = new byte[Base64Url.GetMaxDecodedLength(token.Length)];
        if (!Base64Url.TryDecodeFromChars(token, bytes, out int written))
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(bytes, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
