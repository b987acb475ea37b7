using HomeServer.Grains.Media;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Media;

/// <summary>Stores new local media: the bytes as a file first, then the record, so a recorded media id always has its file.</summary>
public sealed class MediaUploads(MediaFiles files, IGrainFactory grains, IOptions<MediaOptions> options)
{
    public IMediaGrain Records => grains.GetGrain<IMediaGrain>("local");

    /// <summary>
    /// Stores <paramref name="body"/> as new media of the user; returns its id, or null (nothing stored) when the body
    /// is larger than <see cref="MediaOptions.MaxUploadBytes"/>.
    /// </summary>
    public async Task<string?> StoreAsync(Stream body, string contentType, string? uploadName, string userId, CancellationToken cancellationToken)
    {
        if (await WriteTemporaryAsync(body, cancellationToken) is not var (temporary, length)) return null;
        var mediaId = MediaIds.New();
        var path = files.ContentPath(mediaId);
        if (!files.TryPublish(temporary, path)) throw new InvalidOperationException($"Media file {mediaId} exists already.");
        try
        {
            await Records.RecordUploadAsync(mediaId, userId, new MediaContent(contentType, uploadName, length));
        }
        catch
        {
            MediaFiles.Delete(path);
            throw;
        }
        return mediaId;
    }

    /// <summary>
    /// Stores <paramref name="body"/> as the content of a pending media id the user created. The file is claimed first
    /// (a second upload finds it and is refused), then the record is completed, which checks creator and expiry again.
    /// </summary>
    /// <returns>How it went; null (nothing stored) when the body is larger than <see cref="MediaOptions.MaxUploadBytes"/>.</returns>
    public async Task<MediaCompletion?> CompleteAsync(string mediaId, Stream body, string contentType, string? uploadName, string userId,
        CancellationToken cancellationToken)
    {
        if (await WriteTemporaryAsync(body, cancellationToken) is not var (temporary, length)) return null;
        var path = files.ContentPath(mediaId);
        if (!files.TryPublish(temporary, path)) return MediaCompletion.AlreadyUploaded;
        MediaCompletion outcome;
        try
        {
            outcome = await Records.CompletePendingAsync(mediaId, userId, new MediaContent(contentType, uploadName, length));
        }
        catch
        {
            MediaFiles.Delete(path);
            throw;
        }
        if (outcome != MediaCompletion.Stored) MediaFiles.Delete(path);
        return outcome;
    }

    // The body in a temporary file; null when it is too large, whether the declared length, the server's own limit on
    // the request (which reads fail with) or the bytes counted say so.
    private async Task<(string Path, long Length)?> WriteTemporaryAsync(Stream body, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxUploadBytes;
        try
        {
            return await files.WriteTemporaryAsync(body, max, cancellationToken);
        }
        catch (Exception e) when (e is MediaTooLargeException or BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return null;
        }
    }
}
