// Owns: decoding an aws-chunked request body (what the aws CLI and SDKs send for streaming uploads):
// `SIZE;chunk-signature=SIG\r\nDATA\r\n` ... `0;chunk-signature=SIG\r\n` with each signature chained
// from the previous one (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), or `SIZE\r\nDATA\r\n` ... `0\r\n` with
// trailing headers such as x-amz-checksum-crc32 (STREAMING-UNSIGNED-PAYLOAD-TRAILER), or signed chunks
// with a signed trailer (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER).
// Faults: a bad chunk signature, a malformed or over-long chunk line, or a body that ends early throws
// AwsChunkedException with the S3 error code; a chunk's bytes are handed out as they arrive and its
// signature is checked at its end, so a consumer must not commit anything before the stream ends.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace O3Storage.Node.Auth;

public sealed class AwsChunkedException(string code, string message) : IOException(message)
{
    public string Code { get; } = code;
}

public sealed class AwsChunkedStream : Stream
{
    private const int LineBytesMax = 4096;
    private readonly Stream _inner;
    private readonly SigV4Context _context;
    private readonly bool _signedChunks;
    private readonly bool _trailer;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly Dictionary<string, string> _trailers = new(StringComparer.OrdinalIgnoreCase);
    private readonly IncrementalHash _chunkHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private int _start;
    private int _end;
    private long _chunkRemaining = -1; // -1: a chunk line comes next
    private string? _chunkSignature;
    private string _previousSignature;
    private bool _done;

    public AwsChunkedStream(Stream inner, SigV4Context context)
    {
        _inner = inner;
        _context = context;
        _previousSignature = context.Signature;
        (_signedChunks, _trailer) = context.ContentSha256 switch
        {
            SigV4Context.StreamingSigned => (true, false),
            SigV4Context.StreamingSignedTrailer => (true, true),
            SigV4Context.StreamingUnsignedTrailer => (false, true),
            _ => throw new ArgumentException($"{context.ContentSha256} is not an aws-chunked mode", nameof(context)),
        };
    }

    /// <summary>Payload bytes handed out so far (compare with x-amz-decoded-content-length at the end).</summary>
    public long DecodedBytes { get; private set; }

    /// <summary>Trailing headers (e.g. x-amz-checksum-crc32), once the stream has ended.</summary>
    public IReadOnlyDictionary<string, string> Trailers => _trailers;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => DecodedBytes; set => throw new NotSupportedException(); }

    // Synchronous reads (tests, Stream.CopyTo) run the async decoder to completion; the node reads asynchronously.
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count), CancellationToken.None).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        while (!_done && !destination.IsEmpty)
        {
            if (_chunkRemaining < 0)
            {
                await StartChunkAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (_chunkRemaining == 0)
            {
                await EndChunkAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new AwsChunkedException("IncompleteBody", $"the body ended inside a chunk, {_chunkRemaining} bytes short");
            }

            int take = (int)Math.Min(Math.Min(destination.Length, _end - _start), _chunkRemaining);
            _buffer.AsSpan(_start, take).CopyTo(destination.Span);
            _chunkHash.AppendData(_buffer, _start, take);
            _start += take;
            _chunkRemaining -= take;
            DecodedBytes += take;
            return take;
        }

        return 0;
    }

    private async ValueTask StartChunkAsync(CancellationToken token)
    {
        string line = await ReadLineAsync(token).ConfigureAwait(false);
        string[] parts = line.Split(';', 2);
        if (!long.TryParse(parts[0], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long size) || size < 0)
        {
            throw new AwsChunkedException("InvalidRequest", $"aws-chunked: '{Shorten(line)}' is not a chunk size line");
        }

        _chunkSignature = null;
        if (_signedChunks)
        {
            const string Prefix = "chunk-signature=";
            if (parts.Length != 2 || !parts[1].StartsWith(Prefix, StringComparison.Ordinal))
            {
                throw new AwsChunkedException("InvalidRequest", "aws-chunked: a chunk line lacks its chunk-signature");
            }

            _chunkSignature = parts[1][Prefix.Length..];
        }

        _chunkRemaining = size;
        if (size == 0)
        {
            VerifyChunk();
            if (_trailer)
            {
                await ReadTrailersAsync(token).ConfigureAwait(false);
            }
            else if ((await ReadLineAsync(token).ConfigureAwait(false)).Length != 0)
            {
                throw new AwsChunkedException("InvalidRequest", "aws-chunked: the final chunk is not followed by an empty line");
            }

            _done = true;
        }
    }

    private async ValueTask EndChunkAsync(CancellationToken token)
    {
        if ((await ReadLineAsync(token).ConfigureAwait(false)).Length != 0)
        {
            throw new AwsChunkedException("InvalidRequest", "aws-chunked: chunk data is longer than its size");
        }

        VerifyChunk();
        _chunkRemaining = -1;
    }

    private void VerifyChunk()
    {
        byte[] hash = _chunkHash.GetHashAndReset();
        if (!_signedChunks)
        {
            return;
        }

        string expected = SigV4.ChunkSignature(_context, _previousSignature, hash);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(_chunkSignature ?? string.Empty)))
        {
            throw new AwsChunkedException("SignatureDoesNotMatch", "aws-chunked: a chunk signature does not match");
        }

        _previousSignature = expected;
    }

    private async ValueTask ReadTrailersAsync(CancellationToken token)
    {
        string? signature = null;
        var canonical = new StringBuilder();
        for (int count = 0; ; count++)
        {
            string line = await ReadLineAsync(token).ConfigureAwait(false);
            if (line.Length == 0)
            {
                break;
            }

            int colon = line.IndexOf(':');
            if (colon <= 0 || count > 16)
            {
                throw new AwsChunkedException("InvalidRequest", $"aws-chunked: '{Shorten(line)}' is not a trailer header");
            }

            string name = line[..colon].Trim().ToLowerInvariant();
            string value = line[(colon + 1)..].Trim();
            if (name == "x-amz-trailer-signature")
            {
                signature = value;
                continue;
            }

            _trailers[name] = value;
            canonical.Append(name).Append(':').Append(value).Append('\n');
        }

        if (_signedChunks)
        {
            string expected = SigV4.TrailerSignature(_context, _previousSignature, canonical.ToString());
            if (signature is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
            {
                throw new AwsChunkedException("SignatureDoesNotMatch", "aws-chunked: the trailer signature is missing or does not match");
            }
        }
    }

    /// <summary>One CRLF-terminated line (without it), at most 4 KiB.</summary>
    private async ValueTask<string> ReadLineAsync(CancellationToken token)
    {
        var line = new List<byte>();
        while (true)
        {
            if (_start == _end && !await FillAsync(token).ConfigureAwait(false))
            {
                throw new AwsChunkedException("IncompleteBody", "the aws-chunked body ended early");
            }

            byte b = _buffer[_start++];
            if (b == '\n' && line.Count > 0 && line[^1] == '\r')
            {
                line.RemoveAt(line.Count - 1);
                return Encoding.ASCII.GetString(line.ToArray());
            }

            line.Add(b);
            if (line.Count > LineBytesMax)
            {
                throw new AwsChunkedException("InvalidRequest", "aws-chunked: a chunk line is longer than 4 KiB");
            }
        }
    }

    private async ValueTask<bool> FillAsync(CancellationToken token)
    {
        _start = 0;
        _end = await _inner.ReadAsync(_buffer, token).ConfigureAwait(false);
        return _end > 0;
    }

    private static string Shorten(string line) => line.Length <= 40 ? line : line[..40] + "...";

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _chunkHash.Dispose();
        }

        base.Dispose(disposing);
    }
}
