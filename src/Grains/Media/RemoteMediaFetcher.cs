using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Grains.Federation.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HomeServer.Grains.Media;

/// <summary>What a remote server said its media (or thumbnail) is.</summary>
/// <param name="NoStore">The origin answered with <c>Cache-Control: no-store</c>: served once, never kept (docs/adr/0049).</param>
public sealed record FetchedMedia(string ContentType, string? UploadName, long SizeBytes, bool NoStore = false);

/// <summary>
/// Downloads another server's media (server-server API, "Content Repository"): <c>GET
/// /_matrix/federation/v1/media/download/{mediaId}</c>, signed, whose <c>multipart/mixed</c> answer holds a JSON
/// metadata part and then either the bytes or a <c>Location</c> to fetch them from; a server that does not know that
/// endpoint (404/405 <c>M_UNRECOGNIZED</c>, or no Matrix error at all) is asked the deprecated
/// <c>/_matrix/media/v3/download/{serverName}/{mediaId}?allow_remote=false</c>. The bytes go to a writer that stops at
/// the size limit; nothing longer is kept. Every connection goes through the federation client's address guard.
/// Thumbnails are asked from <c>/_matrix/federation/v1/media/thumbnail/{mediaId}</c> the same way; an origin that has
/// none (unknown endpoint, 404, 400) answers <see cref="RemoteMediaFailure.NoThumbnail"/> (docs/adr/0049).
/// </summary>
public sealed class RemoteMediaFetcher(FederationClient client, IOptions<FederationTransportOptions> options, ILogger<RemoteMediaFetcher> logger)
{
    private const int MaxJsonBytes = 64 * 1024;
    private const int MaxLocationRedirects = 5;
    private const int MaxContentTypeLength = 255;
    private const int MaxUploadNameLength = 255;

    /// <summary>Copies the content to its file, reading at most the limit; returns the length, or null when longer.</summary>
    public delegate Task<long?> ContentWriter(Stream content, CancellationToken cancellationToken);

    /// <summary>The image types a thumbnail from another server may have (the spec's list); anything else is not served.</summary>
    private static readonly HashSet<string> ThumbnailTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "image/png", "image/apng", "image/jpeg", "image/gif", "image/webp",
    };

    public async Task<(FetchedMedia? Media, RemoteMediaFailure? Failure)> FetchThumbnailAsync(
        string serverName, string mediaId, RemoteThumbnailRequest request, TimeSpan notYetUploadedWait, long maxBytes,
        ContentWriter write, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.RequestTimeout);
        var token = timeout.Token;
        var query = $"width={request.Width}&height={request.Height}&method={request.Method}&animated={(request.Animated ? "true" : "false")}" +
                    $"&timeout_ms={(long)notYetUploadedWait.TotalMilliseconds}";
        try
        {
            using var response = await client.GetStreamingAsync(serverName, $"/_matrix/federation/v1/media/thumbnail/{mediaId}?{query}", token);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var (fetched, failure) = await ReadMultipartAsync(response, maxBytes, write, token);
                if (fetched is null) return (null, failure);
                var type = MediaTypeHeaderValue.TryParse(fetched.ContentType, out var parsed) ? parsed.MediaType : null;
                if (type is null || !ThumbnailTypes.Contains(type)) return (null, RemoteMediaFailure.Unavailable);
                return (fetched with { ContentType = type.ToLowerInvariant() }, null);
            }
            var errcode = await ErrorCodeAsync(response, token);
            if (IsUnknownEndpoint(response.StatusCode, errcode) || response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
                return (null, RemoteMediaFailure.NoThumbnail);
            return Failed(response.StatusCode, errcode);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Thumbnail of media {MediaId} of {Server}: no answer within {Timeout}", mediaId, serverName, options.Value.RequestTimeout);
            return (null, RemoteMediaFailure.TimedOut);
        }
        catch (Exception e) when (e is FederationRequestException or MalformedMultipartException or HttpRequestException or IOException or JsonException)
        {
            logger.LogInformation("Thumbnail of media {MediaId} of {Server} could not be fetched: {Reason}", mediaId, serverName, e.Message);
            return (null, RemoteMediaFailure.Unavailable);
        }
    }

    public async Task<(FetchedMedia? Media, RemoteMediaFailure? Failure)> FetchAsync(
        string serverName, string mediaId, TimeSpan notYetUploadedWait, long maxBytes, ContentWriter write, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.RequestTimeout);
        var token = timeout.Token;
        var timeoutMs = (long)notYetUploadedWait.TotalMilliseconds;
        try
        {
            using var response = await client.GetStreamingAsync(serverName, $"/_matrix/federation/v1/media/download/{mediaId}?timeout_ms={timeoutMs}", token);
            if (response.StatusCode == HttpStatusCode.OK) return await ReadMultipartAsync(response, maxBytes, write, token);
            var errcode = await ErrorCodeAsync(response, token);
            if (!IsUnknownEndpoint(response.StatusCode, errcode)) return Failed(response.StatusCode, errcode);

            using var legacy = await client.GetStreamingAsync(serverName,
                $"/_matrix/media/v3/download/{Uri.EscapeDataString(serverName)}/{mediaId}?allow_remote=false&timeout_ms={timeoutMs}", token);
            if (legacy.StatusCode == HttpStatusCode.OK) return await StoreAsync(legacy, maxBytes, write, token);
            return Failed(legacy.StatusCode, await ErrorCodeAsync(legacy, token));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogInformation("Media {MediaId} of {Server}: no answer within {Timeout}", mediaId, serverName, options.Value.RequestTimeout);
            return (null, RemoteMediaFailure.TimedOut);
        }
        catch (Exception e) when (e is FederationRequestException or MalformedMultipartException or HttpRequestException or IOException or JsonException)
        {
            logger.LogInformation("Media {MediaId} of {Server} could not be fetched: {Reason}", mediaId, serverName, e.Message);
            return (null, RemoteMediaFailure.Unavailable);
        }
    }

    private async Task<(FetchedMedia?, RemoteMediaFailure?)> ReadMultipartAsync(
        HttpResponseMessage response, long maxBytes, ContentWriter write, CancellationToken token)
    {
        var boundary = MultipartMixedReader.BoundaryOf(response.Content.Headers.ContentType)
            ?? throw new MalformedMultipartException("The answer is not multipart/mixed with a boundary.");
        await using var body = await response.Content.ReadAsStreamAsync(token);
        var reader = new MultipartMixedReader(body, boundary);

        var metadata = await reader.ReadNextPartAsync(token) ?? throw new MalformedMultipartException("No metadata part.");
        if (!IsJson(metadata.Header("Content-Type"))) throw new MalformedMultipartException("The first part is not application/json.");
        // Its content is an empty object today; it must still be JSON.
        var json = await ReadBoundedAsync(metadata.Body, MaxJsonBytes, token) ?? throw new MalformedMultipartException("The metadata part is too long.");
        if (JsonDocument.Parse(json).RootElement.ValueKind != JsonValueKind.Object) throw new MalformedMultipartException("The metadata part is not a JSON object.");

        var content = await reader.ReadNextPartAsync(token) ?? throw new MalformedMultipartException("No content part.");
        if (content.Header("Location") is { } location)
        {
            var (located, failure) = await FollowLocationAsync(location, maxBytes, write, token);
            return (located is null ? null : located with { NoStore = located.NoStore || IsNoStore(response) }, failure);
        }
        var type = content.Header("Content-Type");
        var disposition = content.Header("Content-Disposition");
        var length = await write(content.Body, token);
        if (length is null) return (null, RemoteMediaFailure.TooLarge);
        // The bytes are complete only if the part ended at a delimiter, which the reader checked while copying.
        return (new FetchedMedia(ContentTypeOf(type), UploadNameOf(disposition), length.Value, IsNoStore(response)), null);
    }

    /// <summary>The second part named a URL: fetched unsigned, its own redirects followed (a few), through the same guard.</summary>
    private async Task<(FetchedMedia?, RemoteMediaFailure?)> FollowLocationAsync(string location, long maxBytes, ContentWriter write, CancellationToken token)
    {
        if (!Uri.TryCreate(location, UriKind.Absolute, out var url)) throw new MalformedMultipartException("The Location is not an absolute URL.");
        for (var hop = 0; ; hop++)
        {
            using var response = await client.GetUrlStreamingAsync(url, token);
            var status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } next && hop < MaxLocationRedirects)
            {
                url = next.IsAbsoluteUri ? next : new Uri(url, next);
                continue;
            }
            if (response.StatusCode == HttpStatusCode.OK) return await StoreAsync(response, maxBytes, write, token);
            return Failed(response.StatusCode, await ErrorCodeAsync(response, token));
        }
    }

    /// <summary>The only Cache-Control directive honoured (docs/adr/0049): media ids never change, so ages do not matter.</summary>
    private static bool IsNoStore(HttpResponseMessage response) => response.Headers.CacheControl?.NoStore == true;

    private static async Task<(FetchedMedia?, RemoteMediaFailure?)> StoreAsync(
        HttpResponseMessage response, long maxBytes, ContentWriter write, CancellationToken token)
    {
        var headers = response.Content.Headers;
        if (headers.ContentLength > maxBytes) return (null, RemoteMediaFailure.TooLarge);
        await using var body = await response.Content.ReadAsStreamAsync(token);
        var length = await write(body, token);
        if (length is null) return (null, RemoteMediaFailure.TooLarge);
        return (new FetchedMedia(ContentTypeOf(headers.ContentType?.ToString()), UploadNameOf(headers.ContentDisposition?.ToString()), length.Value,
            IsNoStore(response)), null);
    }

    /// <summary>The spec has servers answer unknown endpoints 404 or 405 M_UNRECOGNIZED; older ones answered without a Matrix error.</summary>
    private static bool IsUnknownEndpoint(HttpStatusCode status, string? errcode) =>
        status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.BadRequest && errcode == "M_UNRECOGNIZED"
        || status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed && errcode is null;

    private static (FetchedMedia?, RemoteMediaFailure?) Failed(HttpStatusCode status, string? errcode) => (null, status switch
    {
        HttpStatusCode.NotFound => RemoteMediaFailure.NotFound,
        HttpStatusCode.GatewayTimeout when errcode == "M_NOT_YET_UPLOADED" => RemoteMediaFailure.NotYetUploaded,
        HttpStatusCode.BadGateway or HttpStatusCode.RequestEntityTooLarge when errcode == "M_TOO_LARGE" => RemoteMediaFailure.TooLarge,
        _ => RemoteMediaFailure.Unavailable,
    });

    /// <summary>The errcode of a Matrix error answer; null when the body is not one.</summary>
    private static async Task<string?> ErrorCodeAsync(HttpResponseMessage response, CancellationToken token)
    {
        await using var body = await response.Content.ReadAsStreamAsync(token);
        var bytes = await ReadBoundedAsync(body, MaxJsonBytes, token);
        if (bytes is null) return null;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("errcode", out var errcode) && errcode.ValueKind == JsonValueKind.String
                ? errcode.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The whole stream, or null when it is longer than <paramref name="limit"/>.</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, int limit, CancellationToken token)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, token)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && string.Equals(parsed.MediaType, "application/json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The declared type when it parses and is short; application/octet-stream otherwise (served as such anyway).</summary>
    private static string ContentTypeOf(string? declared) =>
        declared is { Length: > 0 and <= MaxContentTypeLength } && !declared.Any(char.IsControl) && MediaTypeHeaderValue.TryParse(declared, out _)
            ? declared
            : "application/octet-stream";

    /// <summary>The file name of a Content-Disposition (filename* preferred, RFC 6266); null when none or unusable.</summary>
    private static string? UploadNameOf(string? disposition)
    {
        if (disposition is null || !ContentDispositionHeaderValue.TryParse(disposition, out var parsed)) return null;
        var name = parsed.FileNameStar ?? parsed.FileName;
        if (name is { Length: >= 2 } && name[0] == '"' && name[^1] == '"') name = name[1..^1];
        return name is { Length: > 0 and <= MaxUploadNameLength } && !name.Any(char.IsControl) ? name : null;
    }
}
