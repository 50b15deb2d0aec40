// Owns: /internal/blobs/{id}: how peers store, fetch and delete blobs on this node for the object data
// path. A stored blob is received whole into memory and its CRC-32C checked before it reaches the device,
// so a transfer cut short or damaged on the way never becomes a blob.
// Faults: 400 bad id, length or checksum; 403 not a member with the admin key; 404 no such blob; 507 full.
using System.Buffers;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using O3Storage.Node.Data;
using O3Storage.Node.Hosting;
using O3Storage.Node.Transport;
using O3Storage.Storage;
using O3Storage.Storage.Format;

namespace O3Storage.Node.Api;

internal sealed class BlobEndpoints(NodeContext node, StoreWriter writer)
{
    /// <summary>The largest blob a peer may send: a chunk of the object writer, with room to grow.</summary>
    public const int BlobBytesMax = 4 * ObjectWriter.DefaultChunkBytes;

    public void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPut("/internal/blobs/{id}", (RequestDelegate)PutAsync);
        routes.MapGet("/internal/blobs/{id}", (RequestDelegate)GetAsync);
        routes.MapDelete("/internal/blobs/{id}", (RequestDelegate)DeleteAsync);
    }

    private async Task PutAsync(HttpContext http)
    {
        if (Admit(http, out BlobId id) is { } refusal)
        {
            await WriteErrorAsync(http, refusal.Status, refusal.Message).ConfigureAwait(false);
            return;
        }

        if (http.Request.ContentLength is not { } length || length > BlobBytesMax
            || !uint.TryParse(http.Request.Headers[PeerClient.Crc32CHeader], NumberStyles.None, CultureInfo.InvariantCulture, out uint expectedCrc))
        {
            await WriteErrorAsync(http, 400, $"a blob needs a Content-Length of at most {BlobBytesMax} and an {PeerClient.Crc32CHeader} header").ConfigureAwait(false);
            return;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            await http.Request.Body.ReadExactlyAsync(buffer.AsMemory(0, (int)length), http.RequestAborted).ConfigureAwait(false);
            uint crc = Crc32C.Compute(buffer.AsSpan(0, (int)length));
            if (crc != expectedCrc)
            {
                await WriteErrorAsync(http, 400, $"blob {id} arrived with CRC-32C {crc:x8}, the sender computed {expectedCrc:x8}").ConfigureAwait(false);
                return;
            }

            await writer.PutAsync(id, buffer.AsMemory(0, (int)length)).ConfigureAwait(false);
            http.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        catch (StorageFullException e)
        {
            await WriteErrorAsync(http, 507, e.Message).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task GetAsync(HttpContext http)
    {
        if (Admit(http, out BlobId id) is { } refusal)
        {
            await WriteErrorAsync(http, refusal.Status, refusal.Message).ConfigureAwait(false);
            return;
        }

        Stream blob;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            blob = await OpenAsync(id, http.RequestAborted).ConfigureAwait(false);
        }
        catch (BlobNotFoundException e)
        {
            await WriteErrorAsync(http, 404, e.Message).ConfigureAwait(false);
            return;
        }
        catch (ChecksumMismatchException e)
        {
            await WriteErrorAsync(http, 500, e.Message).ConfigureAwait(false);
            return;
        }

        await using (blob.ConfigureAwait(false))
        {
            http.Response.ContentLength = blob.Length;
            http.Response.ContentType = "application/octet-stream";
            // A checksum failure at the end throws here and cuts the response short: the reader sees a short blob.
            await blob.CopyToAsync(http.Response.Body, 1 << 20, http.RequestAborted).ConfigureAwait(false);
            node.Metrics.BlobRead(blob.Length, started);
        }
    }

    /// <summary>
    /// A blob from the store, or one applied from the log that the store does not have yet. A small object
    /// travels in its Raft entry and this replica stores it as it applies the entry, so a reader that saw
    /// the commit may ask before this node applied it: a blob not found is looked for again once this node
    /// has caught up with the leader's commit (a read barrier, bounded).
    /// </summary>
    private async Task<Stream> OpenAsync(BlobId id, CancellationToken token)
    {
        try
        {
            return node.Storage.Inline.OpenRead(id);
        }
        catch (BlobNotFoundException)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(token);
            bounded.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                await node.Raft.ReadBarrierAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                throw new BlobNotFoundException(id); // no leader to catch up with, or not in time: it is not here
            }

            return node.Storage.Inline.OpenRead(id);
        }
    }

    private async Task DeleteAsync(HttpContext http)
    {
        if (Admit(http, out BlobId id) is { } refusal)
        {
            await WriteErrorAsync(http, refusal.Status, refusal.Message).ConfigureAwait(false);
            return;
        }

        http.Response.StatusCode = await writer.DeleteAsync(id).ConfigureAwait(false) ? StatusCodes.Status204NoContent : StatusCodes.Status404NotFound;
    }

    /// <summary>Null when the caller may go on with blob <paramref name="id"/>; else the status and message to refuse with.</summary>
    private (int Status, string Message)? Admit(HttpContext http, out BlobId id)
    {
        id = default;
        if (!InternalAuth.IsAllowed(node, http, allowRecentlyRemoved: HttpMethods.IsGet(http.Request.Method)))
        {
            return (403, "only cluster members holding the admin key may transfer blobs");
        }

        string text = http.Request.RouteValues["id"] as string ?? string.Empty;
        if (text.Length != 32 || !UInt128.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out UInt128 value) || value == UInt128.Zero)
        {
            return (400, "a blob id is 32 hex digits, not zero");
        }

        id = new BlobId(value);
        return null;
    }

    private static Task WriteErrorAsync(HttpContext http, int status, string message)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(new ErrorResponse(message), InternalJsonContext.Default.ErrorResponse, cancellationToken: http.RequestAborted);
    }
}
