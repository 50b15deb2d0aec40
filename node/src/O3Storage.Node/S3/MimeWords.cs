// Owns: non-ASCII text in user metadata values, handled as S3 handles it (RFC 2047 encoded words): a
// value sent as encoded words is stored decoded, and a stored value that is not printable ASCII goes
// back B-encoded in UTF-8. HTTP cannot carry other bytes in a header portably, and Kestrel refuses to
// send them (it threw, and the GET of such an object answered 503).
// Pure: strings in, strings out; a malformed encoded word is kept as it was sent.
using System.Text;
using System.Text.RegularExpressions;

namespace O3Storage.Node.S3;

public static partial class MimeWords
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The value as a header can carry it: unchanged when it is printable ASCII, else one UTF-8 B-encoded word.</summary>
    public static string Encode(string value) =>
        value.All(c => c is (>= ' ' and <= '~') or '\t') ? value : "=?UTF-8?B?" + Convert.ToBase64String(Encoding.UTF8.GetBytes(value)) + "?=";

    /// <summary>The text a value's encoded words stand for (UTF-8, US-ASCII or ISO-8859-1; B or Q); the value itself when it has none or one is malformed.</summary>
    public static string Decode(string value)
    {
        if (!value.Contains("=?", StringComparison.Ordinal))
        {
            return value;
        }

        var text = new StringBuilder(value.Length);
        int last = 0;
        bool afterWord = false;
        foreach (Match word in EncodedWord().Matches(value))
        {
            string between = value[last..word.Index];
            if (!(afterWord && string.IsNullOrWhiteSpace(between)))
            {
                text.Append(between); // white space between two encoded words is not part of the text (RFC 2047, 6.2)
            }

            if (DecodeWord(word.Groups["charset"].Value, word.Groups["encoding"].Value, word.Groups["text"].Value) is not { } decoded)
            {
                return value;
            }

            text.Append(decoded);
            last = word.Index + word.Length;
            afterWord = true;
        }

        return text.Append(value.AsSpan(last)).ToString();
    }

    private static string? DecodeWord(string charset, string encoding, string encoded)
    {
        Encoding? decoder = charset.ToUpperInvariant() switch
        {
            "UTF-8" => s_strictUtf8,
            "US-ASCII" => Encoding.ASCII,
            "ISO-8859-1" => Encoding.Latin1,
            _ => null,
        };
        byte[]? bytes = encoding is "B" or "b" ? FromBase64(encoded) : FromQ(encoded);
        if (decoder is null || bytes is null)
        {
            return null;
        }

        try
        {
            return decoder.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static byte[]? FromBase64(string encoded)
    {
        byte[] bytes = new byte[encoded.Length];
        return Convert.TryFromBase64String(encoded, bytes, out int written) ? bytes[..written] : null;
    }

    /// <summary>RFC 2047's Q encoding: '_' is a space, =XX a byte in hex, anything else itself.</summary>
    private static byte[]? FromQ(string encoded)
    {
        var bytes = new List<byte>(encoded.Length);
        for (int i = 0; i < encoded.Length; i++)
        {
            char c = encoded[i];
            if (c == '=')
            {
                if (i + 2 >= encoded.Length || !byte.TryParse(encoded.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out byte b))
                {
                    return null;
                }

                bytes.Add(b);
                i += 2;
            }
            else if (c > '~')
            {
                return null;
            }
            else
            {
                bytes.Add(c == '_' ? (byte)' ' : (byte)c);
            }
        }

        return [.. bytes];
    }

    [GeneratedRegex(@"=\?(?<charset>[^?\s]+)\?(?<encoding>[BbQq])\?(?<text>[^?\s]*)\?=")]
    private static partial Regex EncodedWord();
}
