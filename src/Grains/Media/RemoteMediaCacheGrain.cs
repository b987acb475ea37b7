using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Media;

/// <summary>
/// Keeps the remote media cache within its bound (docs/adr/0049). One activation serialises evictions cluster-wide;
/// each removes the record first and the file after, so a record never names a missing file for long, and a media
/// grain that finds its file gone fetches it again.
/// </summary>
[GrainType("remote-media-cache")]
public sealed class RemoteMediaCacheGrain(IHomeServerStore store, ILogger<RemoteMediaCacheGrain> logger) : HomeServerGrain, IRemoteMediaCacheGrain
{
    private const int Batch = 100;

    public async Task TrimAsync(long maxBytes, string keepFileId)
    {
        var total = await store.Media.GetRemoteCacheBytesAsync(CancellationToken.None);
        if (total <= maxBytes) return;
        var files = ServiceProvider.GetRequiredService<IMediaContentFiles>();
        var evicted = 0;
        while (total > maxBytes)
        {
            var candidates = await store.Media.GetLeastRecentlyUsedRemoteFilesAsync(Batch, CancellationToken.None);
            var progressed = false;
            foreach (var file in candidates)
            {
                if (total <= maxBytes) break;
                if (file.FileId == keepFileId) continue;
                if (await store.Media.RemoveRemoteFileAsync(file.FileId, CancellationToken.None))
                {
                    files.DeleteContent(file.FileId);
                    if (!file.IsThumbnail) files.DeleteThumbnails(file.FileId);
                    evicted++;
                }
                total -= file.SizeBytes;
                progressed = true;
            }
            if (!progressed) break;
        }
        logger.LogInformation("Remote media cache: {Count} files evicted, {Total} bytes kept (bound {Bound})", evicted, total, maxBytes);
    }
}
