using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Grains.Media;

/// <summary>
/// One other server's media id. Its single activation in the cluster is what makes concurrent requests share one
/// fetch: the first starts it, every caller waits for the same task. The bytes are written to the shared media file
/// store and the record to the store, so a fetched media id is never fetched again (docs/adr/0043).
/// </summary>
[GrainType("remote-media")]
public sealed class RemoteMediaGrain(IHomeServerStore store, RemoteMediaFetcher fetcher, LocalServer local, TimeProvider time)
    : HomeServerGrain, IRemoteMediaGrain
{
    /// <summary>A failed fetch answers later callers for this long before another is tried, sparing the remote server.</summary>
    private static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(10);

    private RemoteMedia? _cached;
    private Task<(RemoteMediaResult Result, DateTimeOffset EndedAt)>? _fetch;

    private string ServerName => RemoteMediaKey.Parse(Key).ServerName;

    private string MediaId => RemoteMediaKey.Parse(Key).MediaId;

    public async Task<RemoteMediaResult> GetCachedAsync() =>
        await LoadAsync() is { } media ? RemoteMediaResult.Found(media) : RemoteMediaResult.Failed(RemoteMediaFailure.NotCached);

    public async Task<RemoteMediaResult> FetchAsync(long maxBytes, TimeSpan notYetUploadedWait, TimeSpan maxWait)
    {
        if (await LoadAsync() is { } media) return RemoteMediaResult.Found(media);
        if (ServerName == local.Name || !Identifiers.ServerName.IsValid(ServerName) || !RemoteMediaKey.IsWellFormedMediaId(MediaId))
            return RemoteMediaResult.Failed(RemoteMediaFailure.NotFound);

        // A failure is remembered briefly; after that the next request tries again.
        if (_fetch is { IsCompletedSuccessfully: true } && time.GetUtcNow() - _fetch.Result.EndedAt > FailureMemory) _fetch = null;
        if (_fetch is null or { IsFaulted: true } or { IsCanceled: true })
        {
            var files = ServiceProvider.GetRequiredService<IMediaContentFiles>();
            var (serverName, mediaId) = (ServerName, MediaId);
            _fetch = Task.Run(() => FetchOnceAsync(files, serverName, mediaId, maxBytes, notYetUploadedWait));
        }
        var fetch = _fetch;
        using (var delay = new CancellationTokenSource())
        {
            if (await Task.WhenAny(fetch, Task.Delay(maxWait, delay.Token)) != fetch) return RemoteMediaResult.StillFetching;
            delay.Cancel();
        }
        var (result, _) = await fetch;
        if (result.Media is { } fetched)
        {
            _cached = fetched;
            _fetch = null;
        }
        return result;
    }

    private async Task<RemoteMedia?> LoadAsync()
    {
        if (_cached is not null) return _cached;
        if (!RemoteMediaKey.IsWellFormedMediaId(MediaId)) return null;
        var stored = await store.Media.GetRemoteAsync(ServerName, MediaId, CancellationToken.None);
        return _cached = stored is null ? null : ToRemoteMedia(stored);
    }

    // Runs off the grain's scheduler: it touches no grain state, only the network, the file store and the store.
    private async Task<(RemoteMediaResult Result, DateTimeOffset EndedAt)> FetchOnceAsync(
        IMediaContentFiles files, string serverName, string mediaId, long maxBytes, TimeSpan notYetUploadedWait)
    {
        var result = await FetchAndRecordAsync(files, serverName, mediaId, maxBytes, notYetUploadedWait);
        return (result, time.GetUtcNow());
    }

    private async Task<RemoteMediaResult> FetchAndRecordAsync(
        IMediaContentFiles files, string serverName, string mediaId, long maxBytes, TimeSpan notYetUploadedWait)
    {
        var fileId = MediaIds.New();
        var (fetched, failure) = await fetcher.FetchAsync(serverName, mediaId, notYetUploadedWait, maxBytes,
            (body, cancellationToken) => files.WriteContentAsync(fileId, body, maxBytes, cancellationToken), CancellationToken.None);
        if (fetched is null) return RemoteMediaResult.Failed(failure ?? RemoteMediaFailure.Unavailable);

        var record = new StoredRemoteMedia(serverName, mediaId, fileId,
            new StoredMediaContent(fetched.ContentType, fetched.UploadName, fetched.SizeBytes), time.GetUtcNow().ToUnixTimeMilliseconds());
        var stored = await store.Media.AddRemoteAsync(record, CancellationToken.None);
        // Another process recorded its own copy first: that one is served, this file is not needed.
        if (stored.FileId != fileId) files.DeleteContent(fileId);
        return RemoteMediaResult.Found(ToRemoteMedia(stored));
    }

    private static RemoteMedia ToRemoteMedia(StoredRemoteMedia stored) =>
        new(stored.FileId, new MediaContent(stored.Content.ContentType, stored.Content.UploadName, stored.Content.SizeBytes), stored.FetchedAt);
}
