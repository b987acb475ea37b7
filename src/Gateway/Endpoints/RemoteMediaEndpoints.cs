using System.Globalization;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Media;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Media;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Another server's media for this server's clients (docs/adr/0043): served from the cache, else fetched once over
/// federation by the media id's <see cref="IRemoteMediaGrain"/>. The deprecated unauthenticated endpoints honour
/// <c>allow_remote=false</c> (cached media only) and, once unauthenticated media is frozen, serve only what was
/// cached before the freeze and fetch nothing. Thumbnails are asked of the origin and cached; the cache is bounded
/// (docs/adr/0049).
/// </summary>
internal static class RemoteMediaEndpoints
{
    /// <summary>One grain call waits at most this long (well within the grain call timeout), then the gateway asks again.</summary>
    private static readonly TimeSpan WaitPerCall = TimeSpan.FromSeconds(15);

    /// <summary>A bound on the whole wait, beyond the fetch's own timeout, so a request can never hang.</summary>
    private static readonly TimeSpan MaxTotalWait = TimeSpan.FromMinutes(3);

    public static async Task<ContentFile> FindRemoteContentAsync(HttpContext context, string serverName, string mediaId, bool authenticated)
    {
        if (!ServerName.IsValid(serverName) || !RemoteMediaKey.IsWellFormedMediaId(mediaId)) throw MediaEndpoints.UnknownMedia();
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<MediaOptions>>().Value;
        var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IRemoteMediaGrain>(RemoteMediaKey.Of(serverName, mediaId));
        var mayFetch = MayFetch(context, options, authenticated);
        var notYetUploadedWait = MediaEndpoints.ReadTimeout(context.Request.Query, options.MaxNotYetUploadedWait);

        // A second attempt when the file went between the grain's answer and now (evicted, or served once): the grain
        // then finds it gone and fetches it again.
        for (var attempt = 0; ; attempt++)
        {
            var result = mayFetch
                ? await WaitAsync(context, () => grain.FetchAsync(options.MaxUploadBytes, notYetUploadedWait, WaitPerCall))
                : await grain.GetCachedAsync();
            if (result.Media is not { } media) throw Error(result);
            if (!authenticated && options.HidesUnauthenticated(media.FetchedAt)) throw MediaEndpoints.UnknownMedia();
            var path = services.GetRequiredService<MediaFiles>().ContentPath(media.FileId);
            if (File.Exists(path))
            {
                await TrimCacheAsync(services, options, result);
                return new ContentFile(media.Content.ContentType, media.Content.UploadName, path, media.FileId, media.Transient);
            }
            if (attempt > 0) throw MediaEndpoints.UnknownMedia();
        }
    }

    /// <summary>
    /// The origin's thumbnail of another server's media (docs/adr/0049), asked for in the preferred size the request
    /// maps to, cached per size, method and animation; null when the origin has none (or is not to be asked and none
    /// is cached), and the caller then makes one from the original. Waiting for upload and timing out are errors.
    /// </summary>
    public static async Task<ContentFile?> FindOriginThumbnailAsync(
        HttpContext context, string serverName, string mediaId, ThumbnailRequest request, bool authenticated)
    {
        if (!ServerName.IsValid(serverName) || !RemoteMediaKey.IsWellFormedMediaId(mediaId)) throw MediaEndpoints.UnknownMedia();
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<MediaOptions>>().Value;
        var grain = services.GetRequiredService<IGrainFactory>().GetGrain<IRemoteMediaGrain>(RemoteMediaKey.Of(serverName, mediaId));
        var mayFetch = MayFetch(context, options, authenticated);
        var notYetUploadedWait = MediaEndpoints.ReadTimeout(context.Request.Query, options.MaxNotYetUploadedWait);
        var asked = new RemoteThumbnailRequest(request.Size.Width, request.Size.Height, request.Size.Method == ThumbnailMethod.Crop ? "crop" : "scale", request.Animated);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var result = mayFetch
                ? await WaitAsync(context, () => grain.FetchThumbnailAsync(asked, options.MaxUploadBytes, notYetUploadedWait, WaitPerCall))
                : await grain.GetCachedThumbnailAsync(asked);
            if (result.Failure is RemoteMediaFailure.NotYetUploaded or RemoteMediaFailure.TimedOut || result is { Media: null, Failure: null }) throw Error(result);
            if (result.Media is not { } thumbnail) return null;
            if (!authenticated && options.HidesUnauthenticated(thumbnail.FetchedAt)) return null;
            var path = services.GetRequiredService<MediaFiles>().ContentPath(thumbnail.FileId);
            if (File.Exists(path))
            {
                await TrimCacheAsync(services, options, result);
                return new ContentFile(thumbnail.Content.ContentType, null, path, thumbnail.FileId, thumbnail.Transient);
            }
        }
        return null;
    }

    /// <summary>Deletes what the origin forbade keeping, once it has been served.</summary>
    public static void DeleteIfTransient(HttpContext context, ContentFile content)
    {
        if (!content.Transient) return;
        var files = context.RequestServices.GetRequiredService<MediaFiles>();
        MediaFiles.Delete(content.Path);
        files.DeleteThumbnails(content.FileId);
    }

    private static bool MayFetch(HttpContext context, MediaOptions options, bool authenticated)
    {
        var frozen = !authenticated && options.UnauthenticatedMediaFrozenAt is not null;
        return !frozen && (authenticated || AllowRemote(context.Request.Query));
    }

    /// <summary>Asks the grain again while its fetch runs, up to a bound.</summary>
    private static async Task<RemoteMediaResult> WaitAsync(HttpContext context, Func<Task<RemoteMediaResult>> ask)
    {
        var deadline = DateTimeOffset.UtcNow + MaxTotalWait;
        RemoteMediaResult result;
        do
        {
            result = await ask();
            context.RequestAborted.ThrowIfCancellationRequested();
        }
        while (result.InProgress && DateTimeOffset.UtcNow < deadline);
        return result;
    }

    /// <summary>After a fetch that added to the cache, evicts past the bound (never the file about to be served).</summary>
    private static async Task TrimCacheAsync(IServiceProvider services, MediaOptions options, RemoteMediaResult result)
    {
        if (!result.Fetched || result.Media is not { Transient: false } media) return;
        await services.GetRequiredService<IGrainFactory>().GetGrain<IRemoteMediaCacheGrain>(IRemoteMediaCacheGrain.TheCache)
            .TrimAsync(options.RemoteCacheMaxBytes, media.FileId);
    }

    private static bool AllowRemote(IQueryCollection query) => query["allow_remote"].ToString() switch
    {
        "" or "true" => true,
        "false" => false,
        _ => throw MediaEndpoints.InvalidParam("allow_remote must be true or false."),
    };

    private static MatrixException Error(RemoteMediaResult result) => result.Failure switch
    {
        RemoteMediaFailure.NotYetUploaded =>
            new MatrixException(StatusCodes.Status504GatewayTimeout, "M_NOT_YET_UPLOADED", "Content has not yet been uploaded."),
        RemoteMediaFailure.TooLarge =>
            new MatrixException(StatusCodes.Status502BadGateway, "M_TOO_LARGE", "Content is too large to serve."),
        RemoteMediaFailure.TimedOut or null =>
            new MatrixException(StatusCodes.Status504GatewayTimeout, "M_UNKNOWN", "The media's server did not answer in time."),
        RemoteMediaFailure.Unavailable =>
            new MatrixException(StatusCodes.Status502BadGateway, "M_UNKNOWN", "The media could not be fetched from its server."),
        _ => MediaEndpoints.UnknownMedia(),
    };
}
