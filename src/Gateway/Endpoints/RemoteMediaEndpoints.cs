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
/// cached before the freeze and fetch nothing.
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

        var frozen = !authenticated && options.UnauthenticatedMediaFrozenAt is not null;
        var mayFetch = !frozen && (authenticated || AllowRemote(context.Request.Query));
        RemoteMediaResult result;
        if (mayFetch)
        {
            var notYetUploadedWait = MediaEndpoints.ReadTimeout(context.Request.Query, options.MaxNotYetUploadedWait);
            var deadline = DateTimeOffset.UtcNow + MaxTotalWait;
            do
            {
                result = await grain.FetchAsync(options.MaxUploadBytes, notYetUploadedWait, WaitPerCall);
                context.RequestAborted.ThrowIfCancellationRequested();
            }
            while (result.InProgress && DateTimeOffset.UtcNow < deadline);
        }
        else
        {
            result = await grain.GetCachedAsync();
        }

        if (result.Media is not { } media) throw Error(result);
        if (!authenticated && options.HidesUnauthenticated(media.FetchedAt)) throw MediaEndpoints.UnknownMedia();
        var path = services.GetRequiredService<MediaFiles>().ContentPath(media.FileId);
        return File.Exists(path)
            ? new ContentFile(media.Content.ContentType, media.Content.UploadName, path, media.FileId)
            : throw MediaEndpoints.UnknownMedia();
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
