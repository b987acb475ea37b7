using System.Buffers;
using System.Globalization;
using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Media;
using HomeServer.Grains;
using HomeServer.Grains.Media;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The content repository (client-server/content-repo.yaml and authed-content-repo.yaml): upload, create + upload,
/// download, thumbnails, config and URL previews. Every media route is mapped here, under the prefixes below, so other
/// versions of a prefix are one more call. Other servers' media is fetched over federation and cached
/// (<see cref="RemoteMediaEndpoints"/>); this server's media is served to other servers by <see cref="FederationMediaEndpoints"/>.
/// </summary>
internal static class MediaEndpoints
{
    /// <summary>The deprecated media API (download and thumbnail unauthenticated, and can be frozen).</summary>
    public const string MediaPrefix = "/_matrix/media/v3";

    /// <summary>Authenticated media (Matrix 1.11).</summary>
    public const string AuthenticatedPrefix = "/_matrix/client/v1/media";

    public const string CreatePath = "/_matrix/media/v1/create";

    private const string ContentSecurityPolicy =
        "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

    private const int MaxContentTypeLength = 255;
    private const int MaxFileNameLength = 255;
    private static readonly TimeSpan NotYetUploadedPoll = TimeSpan.FromMilliseconds(250);

    private static readonly HashSet<string> ThumbnailSourceTypes = new(StringComparer.OrdinalIgnoreCase)
    {
        "image/jpeg", "image/png", "image/apng", "image/gif", "image/webp",
    };

    public static void MapMediaEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMediaRepository(MediaPrefix);
        endpoints.MapPost(CreatePath, CreateAsync);
        endpoints.MapAuthenticatedMedia(AuthenticatedPrefix);
    }

    /// <summary>Upload, download, thumbnail, config and preview_url under a /_matrix/media/{version} prefix.</summary>
    public static void MapMediaRepository(this IEndpointRouteBuilder endpoints, string prefix)
    {
        var maxUpload = endpoints.ServiceProvider.GetRequiredService<IOptions<MediaOptions>>().Value.MaxUploadBytes;
        endpoints.MapPost(prefix + "/upload", UploadAsync).WithMetadata(new UploadSizeLimit(maxUpload));
        endpoints.MapPut(prefix + "/upload/{serverName}/{mediaId}", UploadToCreatedAsync).WithMetadata(new UploadSizeLimit(maxUpload));
        endpoints.MapGet(prefix + "/download/{serverName}/{mediaId}", (HttpContext context, string serverName, string mediaId) =>
            DownloadAsync(context, serverName, mediaId, null, authenticated: false));
        endpoints.MapGet(prefix + "/download/{serverName}/{mediaId}/{fileName}", (HttpContext context, string serverName, string mediaId, string fileName) =>
            DownloadAsync(context, serverName, mediaId, fileName, authenticated: false));
        endpoints.MapGet(prefix + "/thumbnail/{serverName}/{mediaId}", (HttpContext context, string serverName, string mediaId) =>
            ThumbnailAsync(context, serverName, mediaId, authenticated: false));
        endpoints.MapGet(prefix + "/config", ConfigAsync);
        endpoints.MapGet(prefix + "/preview_url", PreviewUrlAsync);
    }

    /// <summary>Download, thumbnail, config and preview_url under /_matrix/client/v1/media: an access token is required.</summary>
    public static void MapAuthenticatedMedia(this IEndpointRouteBuilder endpoints, string prefix)
    {
        endpoints.MapGet(prefix + "/download/{serverName}/{mediaId}", (HttpContext context, string serverName, string mediaId) =>
            DownloadAsync(context, serverName, mediaId, null, authenticated: true));
        endpoints.MapGet(prefix + "/download/{serverName}/{mediaId}/{fileName}", (HttpContext context, string serverName, string mediaId, string fileName) =>
            DownloadAsync(context, serverName, mediaId, fileName, authenticated: true));
        endpoints.MapGet(prefix + "/thumbnail/{serverName}/{mediaId}", (HttpContext context, string serverName, string mediaId) =>
            ThumbnailAsync(context, serverName, mediaId, authenticated: true));
        endpoints.MapGet(prefix + "/config", ConfigAsync);
        endpoints.MapGet(prefix + "/preview_url", PreviewUrlAsync);
    }

    private static async Task<IResult> UploadAsync(
        HttpContext context, [FromServices] MediaUploads uploads, [FromServices] IOptions<MediaOptions> options, [FromServices] LocalServer local)
    {
        var session = await context.RequireSessionAsync();
        var (contentType, fileName) = ReadUploadHeaders(context.Request, options.Value);
        var mediaId = await uploads.StoreAsync(context.Request.Body, contentType, fileName, session.UserId, context.RequestAborted);
        if (mediaId is null) return new UploadTooLarge(options.Value.MaxUploadBytes);
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("content_uri"u8, MxcUri(local, mediaId));
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> CreateAsync(
        HttpContext context, [FromServices] MediaUploads uploads, [FromServices] IOptions<MediaOptions> options, [FromServices] LocalServer local)
    {
        var session = await context.RequireSessionAsync();
        var media = options.Value;
        var expiresAt = DateTimeOffset.UtcNow.Add(media.UnusedIdLifetime).ToUnixTimeMilliseconds();
        var mediaId = await uploads.Records.CreatePendingAsync(session.UserId, expiresAt, media.MaxPendingUploadsPerUser)
            ?? throw new MatrixException(StatusCodes.Status429TooManyRequests, "M_LIMIT_EXCEEDED",
                $"Too many pending uploads: at most {media.MaxPendingUploadsPerUser} created media ids may wait for their content.");
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("content_uri"u8, MxcUri(local, mediaId));
            writer.WriteNumber("unused_expires_at"u8, expiresAt);
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> UploadToCreatedAsync(
        HttpContext context, string serverName, string mediaId,
        [FromServices] MediaUploads uploads, [FromServices] IOptions<MediaOptions> options, [FromServices] LocalServer local)
    {
        var session = await context.RequireSessionAsync();
        if (serverName != local.Name) throw UnknownMedia();
        // Checked before the body is read, so that a refused upload does not transfer its bytes.
        var record = await uploads.Records.GetAsync(mediaId) ?? throw UnknownMedia();
        if (record.UserId != session.UserId) throw Forbidden("Only the user who created this media id may upload to it.");
        if (!record.IsPending) throw CannotOverwrite();
        if (IsExpired(record)) throw UnknownMedia();
        var (contentType, fileName) = ReadUploadHeaders(context.Request, options.Value);
        var outcome = await uploads.CompleteAsync(mediaId, context.Request.Body, contentType, fileName, session.UserId, context.RequestAborted);
        return outcome switch
        {
            null => new UploadTooLarge(options.Value.MaxUploadBytes),
            MediaCompletion.Stored => AccountsJsonBody.Empty(),
            MediaCompletion.AlreadyUploaded => throw CannotOverwrite(),
            MediaCompletion.NotCreator => throw Forbidden("Only the user who created this media id may upload to it."),
            _ => throw UnknownMedia(),
        };
    }

    private static async Task DownloadAsync(HttpContext context, string serverName, string mediaId, string? fileName, bool authenticated)
    {
        var content = await FindContentAsync(context, serverName, mediaId, authenticated);
        var served = MediaContentTypes.Served(content.ContentType);
        var response = context.Response;
        SetSecurityHeaders(response, authenticated);
        response.ContentType = served;
        response.Headers.ContentDisposition = MediaContentTypes.Disposition(MediaContentTypes.IsInline(served), fileName ?? content.UploadName);
        try
        {
            response.ContentLength = new FileInfo(content.Path).Length;
            await response.SendFileAsync(content.Path, context.RequestAborted);
        }
        finally
        {
            RemoteMediaEndpoints.DeleteIfTransient(context, content);
        }
    }

    private static async Task ThumbnailAsync(HttpContext context, string serverName, string mediaId, bool authenticated)
    {
        if (authenticated) await context.RequireSessionAsync();
        var request = ReadThumbnailRequest(context.Request.Query);
        // Another server's media: its own thumbnail first; one is made here from the original only when it has none.
        if (serverName != context.RequestServices.GetRequiredService<LocalServer>().Name
            && await RemoteMediaEndpoints.FindOriginThumbnailAsync(context, serverName, mediaId, request, authenticated) is { } fromOrigin)
        {
            try
            {
                await SendThumbnailAsync(context, fromOrigin.Path, fromOrigin.ContentType, authenticated);
            }
            finally
            {
                RemoteMediaEndpoints.DeleteIfTransient(context, fromOrigin);
            }
            return;
        }
        var content = await FindContentAsync(context, serverName, mediaId, authenticated);
        try
        {
            var (path, contentType) = await ThumbnailFileAsync(context, content, request);
            await SendThumbnailAsync(context, path, contentType, authenticated);
        }
        finally
        {
            RemoteMediaEndpoints.DeleteIfTransient(context, content);
        }
    }

    /// <summary>width, height, method and animated of a thumbnail request (400 when missing or invalid).</summary>
    internal static ThumbnailRequest ReadThumbnailRequest(IQueryCollection query)
    {
        var width = RequirePositiveInt(query, "width");
        var height = RequirePositiveInt(query, "height");
        var method = query["method"].ToString() switch
        {
            "" or "scale" => ThumbnailMethod.Scale,
            "crop" => ThumbnailMethod.Crop,
            _ => throw InvalidParam("method must be crop or scale."),
        };
        var animated = query["animated"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            _ => throw InvalidParam("animated must be true or false."),
        };
        return new ThumbnailRequest(ThumbnailSize.For(width, height, method), animated);
    }

    /// <summary>
    /// The file and type of the thumbnail of <paramref name="content"/> (generated once per preferred size and kept);
    /// the original itself when animation is asked for and present. 400 for content that is not an image, 413 when
    /// the image is too large to decode.
    /// </summary>
    internal static async Task<(string Path, string ContentType)> ThumbnailFileAsync(HttpContext context, ContentFile content, ThumbnailRequest request)
    {
        var sourceType = MediaContentTypes.Served(content.ContentType);
        if (!ThumbnailSourceTypes.Contains(sourceType)) throw CannotThumbnail();
        try
        {
            // Animation asked for and present: the original is the animated thumbnail (first frames are all one could make).
            if (request.Animated && await Task.Run(() => ThumbnailGenerator.IsAnimated(content.Path))) return (content.Path, sourceType);
            var thumbnails = context.RequestServices.GetRequiredService<ThumbnailCache>();
            return await thumbnails.GetAsync(content.FileId, request.Size);
        }
        catch (ThumbnailRefusedException refused)
        {
            throw refused.Reason == ThumbnailRefusal.TooLarge
                ? new MatrixException(StatusCodes.Status413PayloadTooLarge, "M_TOO_LARGE", "Content is too large to thumbnail.")
                : CannotThumbnail();
        }
    }

    private static async Task SendThumbnailAsync(HttpContext context, string path, string contentType, bool authenticated)
    {
        var response = context.Response;
        SetSecurityHeaders(response, authenticated);
        response.ContentType = contentType;
        response.Headers.ContentDisposition = MediaContentTypes.Disposition(inline: true, "thumbnail." + contentType["image/".Length..]);
        response.ContentLength = new FileInfo(path).Length;
        await response.SendFileAsync(path, context.RequestAborted);
    }

    private static async Task<IResult> ConfigAsync(HttpContext context, [FromServices] IOptions<MediaOptions> options)
    {
        await context.RequireSessionAsync();
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("m.upload.size"u8, options.Value.MaxUploadBytes);
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> PreviewUrlAsync(
        HttpContext context, [FromServices] UrlPreviewer previewer, [FromServices] MediaUploads uploads,
        [FromServices] IOptions<MediaOptions> options, [FromServices] LocalServer local)
    {
        var session = await context.RequireSessionAsync();
        if (!options.Value.UrlPreview.Enabled) throw Forbidden("URL previews are disabled on this server.");
        var url = context.Request.Query["url"].ToString();
        if (url.Length == 0) throw new MatrixException(StatusCodes.Status400BadRequest, "M_MISSING_PARAM", "Missing url.");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw InvalidParam("url must be an absolute http or https URL.");
        if (context.Request.Query.TryGetValue("ts", out var ts) && !long.TryParse(ts, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            throw InvalidParam("ts must be an integer.");

        PagePreview preview;
        try
        {
            preview = await previewer.PreviewAsync(uri, context.RequestAborted);
        }
        catch (Exception e) when (IsRefusedAddress(e))
        {
            throw Forbidden("The URL's host resolves to an address URL previews may not reach.");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            throw new MatrixException(StatusCodes.Status502BadGateway, "M_UNKNOWN", "Could not fetch the URL to preview.");
        }

        var image = preview.ImageUrl is null ? null : await StoreImageAsync(preview.ImageUrl, previewer, uploads, session.UserId, context.RequestAborted);
        return Json(writer =>
        {
            writer.WriteStartObject();
            foreach (var (name, value) in preview.Properties) writer.WriteString(name, value);
            if (image is not null)
            {
                writer.WriteString("og:image", MxcUri(local, image.Value.MediaId));
                writer.WriteString("og:image:type", image.Value.ContentType);
                writer.WriteNumber("matrix:image:size", image.Value.Size);
                if (image.Value.Width > 0) writer.WriteNumber("og:image:width", image.Value.Width);
                if (image.Value.Height > 0) writer.WriteNumber("og:image:height", image.Value.Height);
            }
            writer.WriteEndObject();
        });
    }

    // The preview's image, copied into the content repository as the requester's media; null when it cannot be had.
    private static async Task<(string MediaId, string ContentType, long Size, int Width, int Height)?> StoreImageAsync(
        Uri url, UrlPreviewer previewer, MediaUploads uploads, string userId, CancellationToken cancellationToken)
    {
        FetchedImage? fetched;
        try
        {
            fetched = await previewer.FetchImageAsync(url, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        if (fetched is null) return null;
        using var info = SKCodec.Create(new MemoryStream(fetched.Bytes));
        if (info is null) return null;
        using var body = new MemoryStream(fetched.Bytes);
        var mediaId = await uploads.StoreAsync(body, fetched.ContentType, null, userId, cancellationToken);
        if (mediaId is null) return null;
        return (mediaId, fetched.ContentType, fetched.Bytes.Length, info.Info.Width, info.Info.Height);
    }

    /// <summary>
    /// The content and file of media after the access rules of the endpoint: this server's media (waiting a little for
    /// pending media), or another server's, from the cache or fetched over federation (docs/adr/0043).
    /// </summary>
    private static async Task<ContentFile> FindContentAsync(HttpContext context, string serverName, string mediaId, bool authenticated)
    {
        if (authenticated) await context.RequireSessionAsync();
        var local = context.RequestServices.GetRequiredService<LocalServer>();
        return serverName == local.Name
            ? await FindLocalContentAsync(context, mediaId, authenticated)
            : await RemoteMediaEndpoints.FindRemoteContentAsync(context, serverName, mediaId, authenticated);
    }

    /// <summary>This server's uploaded media; waits up to timeout_ms for pending media (504 M_NOT_YET_UPLOADED after).</summary>
    /// <param name="authenticated">False: the freeze of unauthenticated media applies.</param>
    internal static async Task<ContentFile> FindLocalContentAsync(HttpContext context, string mediaId, bool authenticated)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<MediaOptions>>().Value;
        var uploads = services.GetRequiredService<MediaUploads>();
        var record = await uploads.Records.GetAsync(mediaId) ?? throw UnknownMedia();
        if (!authenticated && options.HidesUnauthenticated(record.CreatedAt)) throw UnknownMedia();
        if (record.IsPending)
        {
            if (IsExpired(record)) throw UnknownMedia();
            var wait = ReadTimeout(context.Request.Query, options.MaxNotYetUploadedWait);
            var deadline = DateTimeOffset.UtcNow + wait;
            while (record.IsPending && DateTimeOffset.UtcNow < deadline)
            {
                await Task.Delay(NotYetUploadedPoll, context.RequestAborted);
                record = await uploads.Records.GetAsync(mediaId) ?? throw UnknownMedia();
            }
            if (record.IsPending)
                throw new MatrixException(StatusCodes.Status504GatewayTimeout, "M_NOT_YET_UPLOADED", "Content has not yet been uploaded.");
        }
        var path = services.GetRequiredService<MediaFiles>().ContentPath(mediaId);
        var content = record.Content!;
        return File.Exists(path) ? new ContentFile(content.ContentType, content.UploadName, path, mediaId) : throw UnknownMedia();
    }

    internal static void SetSecurityHeaders(HttpResponse response, bool authenticated)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        // Content never changes under its id; shared caches must not keep what needed an access token.
        response.Headers.CacheControl = authenticated ? "private, max-age=86400" : "public, max-age=86400";
    }

    private static (string ContentType, string? FileName) ReadUploadHeaders(HttpRequest request, MediaOptions options)
    {
        var contentType = request.ContentType is { Length: > 0 } declared ? declared : MediaContentTypes.OctetStream;
        if (contentType.Length > MaxContentTypeLength || contentType.Any(char.IsControl)) throw InvalidParam("Invalid Content-Type.");
        string? fileName = null;
        if (request.Query.TryGetValue("filename", out var values))
        {
            fileName = values.ToString();
            if (fileName.Length > MaxFileNameLength || fileName.Contains('\0')) throw InvalidParam("Invalid filename.");
            if (fileName.Length == 0) fileName = null;
        }
        return (contentType, fileName);
    }

    internal static TimeSpan ReadTimeout(IQueryCollection query, TimeSpan max)
    {
        if (!query.TryGetValue("timeout_ms", out var value)) return max;
        if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) || ms < 0)
            throw InvalidParam("timeout_ms must be a non-negative integer.");
        return TimeSpan.FromMilliseconds(Math.Min(ms, (long)max.TotalMilliseconds));
    }

    private static int RequirePositiveInt(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var value) || value.ToString().Length == 0)
            throw new MatrixException(StatusCodes.Status400BadRequest, "M_MISSING_PARAM", $"Missing {name}.");
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number <= 0)
            throw InvalidParam($"{name} must be a positive integer.");
        return number;
    }

    private static bool IsExpired(MediaRecord record) =>
        record.UnusedExpiresAt is { } expiresAt && expiresAt <= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static bool IsRefusedAddress(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is PreviewAddressRefusedException) return true;
        return false;
    }

    private static string MxcUri(LocalServer local, string mediaId) => $"mxc://{local.Name}/{mediaId}";

    internal static MatrixException UnknownMedia() => new(StatusCodes.Status404NotFound, "M_NOT_FOUND", "Unknown media.");

    private static MatrixException Forbidden(string message) => new(StatusCodes.Status403Forbidden, "M_FORBIDDEN", message);

    internal static MatrixException InvalidParam(string message) => new(StatusCodes.Status400BadRequest, "M_INVALID_PARAM", message);

    private static MatrixException CannotOverwrite() =>
        new(StatusCodes.Status409Conflict, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded.");

    private static MatrixException CannotThumbnail() =>
        new(StatusCodes.Status400BadRequest, "M_UNKNOWN", "Cannot generate thumbnails for the requested content.");

    private static IResult Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return AccountsJsonBody.Bytes(buffer.WrittenSpan.ToArray());
    }

    /// <summary>
    /// 413 M_TOO_LARGE for an upload, closing the connection: the rest of the body is not read, so the connection
    /// cannot carry another request (and the client learns at once instead of sending the rest).
    /// </summary>
    private sealed class UploadTooLarge(long maxBytes) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.Headers.Connection = "close";
            return MatrixErrorResponse.WriteAsync(context.Response, StatusCodes.Status413PayloadTooLarge,
                new MatrixError("M_TOO_LARGE", $"Cannot upload files larger than {maxBytes} bytes."));
        }
    }

    private sealed class UploadSizeLimit(long maxBytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => maxBytes;
    }
}

/// <summary>Media content to serve: its type and name as uploaded, its file, and the id its thumbnails are kept under.</summary>
/// <param name="Transient">Another server's media it forbade storing: the file (and thumbnails made from it) is deleted once served.</param>
internal sealed record ContentFile(string ContentType, string? UploadName, string Path, string FileId, bool Transient = false);

internal sealed record ThumbnailRequest(ThumbnailSize Size, bool Animated);
