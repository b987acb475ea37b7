using System.Buffers;
using System.IO.Pipelines;
using HomeServer.Grains.Sync;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Json;

/// <summary>
/// Writes a <see cref="SegmentedJson"/> body as a 200 response, segment after segment, in chunks (docs/adr/0027).
/// A segment may be a room's cached state shared by a thousand responses at once: Kestrel copies into its response
/// buffer what it is given before it flushes, so handing it a whole segment would cost each response the segment's
/// size again. Flushing after each chunk lets the connection's back-pressure hold the rest until the client reads.
/// </summary>
internal static class SegmentedJsonResponse
{
    /// <summary>Below Kestrel's default response buffer (64 KiB), so a flush waits only for a slow client.</summary>
    internal const int ChunkBytes = 16 * 1024;

    public static async Task WriteAsync(HttpResponse response, SegmentedJson body, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = JsonContentType.Utf8;
        response.ContentLength = body.Length;
        await WriteAsync(response.BodyWriter, body, cancellationToken);
    }

    internal static async Task WriteAsync(PipeWriter output, SegmentedJson body, CancellationToken cancellationToken)
    {
        var unflushed = 0;
        foreach (var segment in body.Segments)
        {
            var offset = 0;
            while (offset < segment.Length)
            {
                var take = Math.Min(segment.Length - offset, ChunkBytes - unflushed);
                output.Write(segment.AsSpan(offset, take));
                offset += take;
                unflushed += take;
                if (unflushed < ChunkBytes) continue;
                unflushed = 0;
                if ((await output.FlushAsync(cancellationToken)).IsCompleted) return;
            }
        }
        await output.FlushAsync(cancellationToken);
    }
}
