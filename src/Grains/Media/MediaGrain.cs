using HomeServer.Storage;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Media;

[GrainType("media")]
[StatelessWorker]
public sealed class MediaGrain(IHomeServerStore store) : HomeServerGrain, IMediaGrain
{
    private IMediaStore Media => store.Media;

    private static long Now => TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

    public async Task<string?> CreatePendingAsync(string userId, long unusedExpiresAt, int maxPending)
    {
        var mediaId = MediaIds.New();
        return await Media.CreatePendingAsync(mediaId, userId, Now, unusedExpiresAt, maxPending, CancellationToken.None) ? mediaId : null;
    }

    public async Task RecordUploadAsync(string mediaId, string userId, MediaContent content)
    {
        if (!await Media.AddUploadedAsync(mediaId, userId, Now, Stored(content), CancellationToken.None))
            throw new InvalidOperationException($"Media id {mediaId} exists already.");
    }

    public async Task<MediaCompletion> CompletePendingAsync(string mediaId, string userId, MediaContent content)
    {
        if (await Media.CompletePendingAsync(mediaId, userId, Now, Stored(content), CancellationToken.None)) return MediaCompletion.Stored;
        // Not stored: say why, from the record as it is now.
        var record = await Media.GetAsync(mediaId, CancellationToken.None);
        if (record is null) return MediaCompletion.NotFound;
        if (record.UserId != userId) return MediaCompletion.NotCreator;
        if (record.UploadedAt is not null) return MediaCompletion.AlreadyUploaded;
        return MediaCompletion.NotFound;
    }

    public async Task<MediaRecord?> GetAsync(string mediaId)
    {
        if (!MediaIds.IsWellFormed(mediaId)) return null;
        var stored = await Media.GetAsync(mediaId, CancellationToken.None);
        if (stored is null) return null;
        var content = stored.Content is { } c ? new MediaContent(c.ContentType, c.UploadName, c.SizeBytes) : null;
        return new MediaRecord(stored.MediaId, stored.UserId, stored.CreatedAt, stored.UnusedExpiresAt, content);
    }

    private static StoredMediaContent Stored(MediaContent content) => new(content.ContentType, content.UploadName, content.SizeBytes);
}
