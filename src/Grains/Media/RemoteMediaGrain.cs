using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Grains.Media;

/// <summary>
/// One other server's media id. Its single activation in the cluster is what makes concurrent requests share one
/// fetch: the first starts it, every caller waits for the same task. The bytes are written to the shared media file
/// store and the record to the store, so a fetched media id is not fetched again while it stays in the cache
/// (docs/adr/0043). Thumbnails are asked of the origin and cached per size, method and animation the same way; the
/// cache is bounded, so a cached file may be evicted, and is then fetched again (docs/adr/0049).
/// </summary>
[GrainType("remote-media")]
public sealed class RemoteMediaGrain(IHomeServerStore store, RemoteMediaFetcher fetcher, LocalServer local, TimeProvider time)
    : HomeServerGrain, IRemoteMediaGrain
{
    /// <summary>A failed fetch answers later callers for this long before another is tried, sparing the remote server.</summary>
    private static readonly TimeSpan FailureMemory = TimeSpan.FromSeconds(10);

    /// <summary>The last access of a cached file is written at most this often (eviction needs no finer order).</summary>
    private static readonly TimeSpan AccessResolution = TimeSpan.FromSeconds(1);

    private readonly SharedFetch _original = new();
    private readonly Dictionary<RemoteThumbnailRequest, SharedFetch> _thumbnailFetches = [];
    private readonly Dictionary<RemoteThumbnailRequest, RemoteMedia> _thumbnails = [];
    private readonly Dictionary<string, DateTimeOffset> _lastAccess = [];
    private RemoteMedia? _cached;
    private bool _originHasNoThumbnails;

    private string ServerName => RemoteMediaKey.Parse(Key).ServerName;

    private string MediaId => RemoteMediaKey.Parse(Key).MediaId;

    private IMediaContentFiles Files => ServiceProvider.GetRequiredService<IMediaContentFiles>();

    private bool IsFetchable =>
        ServerName != local.Name && Identifiers.ServerName.IsValid(ServerName) && RemoteMediaKey.IsWellFormedMediaId(MediaId);

    public async Task<RemoteMediaResult> GetCachedAsync() =>
        await LoadAsync() is { } media ? RemoteMediaResult.Found(media) : RemoteMediaResult.Failed(RemoteMediaFailure.NotCached);

    public async Task<RemoteMediaResult> FetchAsync(long maxBytes, TimeSpan notYetUploadedWait, TimeSpan maxWait)
    {
        if (await LoadAsync() is { } media) return RemoteMediaResult.Found(media);
        if (!IsFetchable) return RemoteMediaResult.Failed(RemoteMediaFailure.NotFound);

        var (files, serverName, mediaId) = (Files, ServerName, MediaId);
        var result = await JoinAsync(_original, () => FetchAndRecordAsync(files, serverName, mediaId, maxBytes, notYetUploadedWait), maxWait);
        if (result.Media is { Transient: false } fetched) Remember(_cached = fetched);
        return result;
    }

    public async Task<RemoteMediaResult> GetCachedThumbnailAsync(RemoteThumbnailRequest request) =>
        await LoadThumbnailAsync(request) is { } thumbnail ? RemoteMediaResult.Found(thumbnail) : RemoteMediaResult.Failed(RemoteMediaFailure.NotCached);

    public async Task<RemoteMediaResult> FetchThumbnailAsync(RemoteThumbnailRequest request, long maxBytes, TimeSpan notYetUploadedWait, TimeSpan maxWait)
    {
        if (!IsFetchable || !IsValid(request)) return RemoteMediaResult.Failed(RemoteMediaFailure.NotFound);
        if (await LoadThumbnailAsync(request) is { } thumbnail) return RemoteMediaResult.Found(thumbnail);
        if (_originHasNoThumbnails) return RemoteMediaResult.Failed(RemoteMediaFailure.NoThumbnail);

        if (!_thumbnailFetches.TryGetValue(request, out var shared)) _thumbnailFetches[request] = shared = new SharedFetch();
        var (files, serverName, mediaId) = (Files, ServerName, MediaId);
        var result = await JoinAsync(shared, () => FetchAndRecordThumbnailAsync(files, serverName, mediaId, request, maxBytes, notYetUploadedWait), maxWait);
        if (result.Media is { Transient: false } fetched) Remember(_thumbnails[request] = fetched);
        if (result.Failure == RemoteMediaFailure.NoThumbnail) _originHasNoThumbnails = true;
        if (!result.InProgress && shared.Fetch is null) _thumbnailFetches.Remove(request);
        return result;
    }

    /// <summary>
    /// Joins the running fetch of <paramref name="shared"/>, or starts one (off the grain's scheduler: it touches no
    /// grain state, only the network, the file store and the store). A failure answers callers for a while; a
    /// success is taken from the cache afterwards, so the fetch is forgotten once it has been answered.
    /// </summary>
    private async Task<RemoteMediaResult> JoinAsync(SharedFetch shared, Func<Task<RemoteMediaResult>> fetch, TimeSpan maxWait)
    {
        if (shared.Fetch is { IsCompletedSuccessfully: true } && time.GetUtcNow() - shared.Fetch.Result.EndedAt > FailureMemory) shared.Fetch = null;
        if (shared.Fetch is null or { IsFaulted: true } or { IsCanceled: true })
            shared.Fetch = Task.Run(async () => (await fetch(), time.GetUtcNow()));
        var running = shared.Fetch;
        using (var delay = new CancellationTokenSource())
        {
            if (await Task.WhenAny(running, Task.Delay(maxWait, delay.Token)) != running) return RemoteMediaResult.StillFetching;
            delay.Cancel();
        }
        var (result, _) = await running;
        if (result.Media is not null && shared.Fetch == running) shared.Fetch = null;
        return result;
    }

    private async Task<RemoteMedia?> LoadAsync()
    {
        if (!RemoteMediaKey.IsWellFormedMediaId(MediaId)) return null;
        if (_cached is null)
        {
            var stored = await store.Media.GetRemoteAsync(ServerName, MediaId, CancellationToken.None);
            _cached = stored is null ? null : ToRemoteMedia(stored);
        }
        if (_cached is null) return null;
        if (await EnsureStillCachedAsync(_cached)) return _cached;
        return _cached = null;
    }

    private async Task<RemoteMedia?> LoadThumbnailAsync(RemoteThumbnailRequest request)
    {
        if (!RemoteMediaKey.IsWellFormedMediaId(MediaId) || !IsValid(request)) return null;
        if (!_thumbnails.TryGetValue(request, out var thumbnail))
        {
            var stored = await store.Media.GetRemoteThumbnailAsync(ServerName, MediaId, KeyOf(request), CancellationToken.None);
            if (stored is null) return null;
            _thumbnails[request] = thumbnail = new RemoteMedia(stored.FileId, new MediaContent(stored.ContentType, null, stored.SizeBytes), stored.FetchedAt);
        }
        if (await EnsureStillCachedAsync(thumbnail)) return thumbnail;
        _thumbnails.Remove(request);
        return null;
    }

    /// <summary>
    /// True when the cached file is still there, and its use is recorded for eviction. An evicted file (its record is
    /// removed first, then the file) is forgotten, with its record if a crash left one, so that it is fetched again.
    /// </summary>
    private async Task<bool> EnsureStillCachedAsync(RemoteMedia media)
    {
        if (!Files.ContentExists(media.FileId))
        {
            _lastAccess.Remove(media.FileId);
            await store.Media.RemoveRemoteFileAsync(media.FileId, CancellationToken.None);
            return false;
        }
        var now = time.GetUtcNow();
        if (!_lastAccess.TryGetValue(media.FileId, out var last) || now - last >= AccessResolution)
        {
            _lastAccess[media.FileId] = now;
            await store.Media.MarkRemoteFileUsedAsync(media.FileId, now.ToUnixTimeMilliseconds(), CancellationToken.None);
        }
        return true;
    }

    private void Remember(RemoteMedia fetched) => _lastAccess[fetched.FileId] = DateTimeOffset.FromUnixTimeMilliseconds(fetched.FetchedAt);

    private async Task<RemoteMediaResult> FetchAndRecordAsync(
        IMediaContentFiles files, string serverName, string mediaId, long maxBytes, TimeSpan notYetUploadedWait)
    {
        var fileId = MediaIds.New();
        var (fetched, failure) = await fetcher.FetchAsync(serverName, mediaId, notYetUploadedWait, maxBytes,
            (body, cancellationToken) => files.WriteContentAsync(fileId, body, maxBytes, cancellationToken), CancellationToken.None);
        if (fetched is null) return RemoteMediaResult.Failed(failure ?? RemoteMediaFailure.Unavailable);

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var content = new StoredMediaContent(fetched.ContentType, fetched.UploadName, fetched.SizeBytes);
        if (fetched.NoStore) return RemoteMediaResult.Found(ToRemoteMedia(new StoredRemoteMedia(serverName, mediaId, fileId, content, now)) with { Transient = true }, fetched: true);
        var stored = await store.Media.AddRemoteAsync(new StoredRemoteMedia(serverName, mediaId, fileId, content, now), CancellationToken.None);
        // Another process recorded its own copy first: that one is served, this file is not needed.
        if (stored.FileId != fileId) files.DeleteContent(fileId);
        return RemoteMediaResult.Found(ToRemoteMedia(stored), fetched: stored.FileId == fileId);
    }

    private async Task<RemoteMediaResult> FetchAndRecordThumbnailAsync(
        IMediaContentFiles files, string serverName, string mediaId, RemoteThumbnailRequest request, long maxBytes, TimeSpan notYetUploadedWait)
    {
        var fileId = MediaIds.New();
        var (fetched, failure) = await fetcher.FetchThumbnailAsync(serverName, mediaId, request, notYetUploadedWait, maxBytes,
            (body, cancellationToken) => files.WriteContentAsync(fileId, body, maxBytes, cancellationToken), CancellationToken.None);
        if (fetched is null)
        {
            // The bytes may have been written before the answer turned out unusable (not an image type).
            files.DeleteContent(fileId);
            return RemoteMediaResult.Failed(failure ?? RemoteMediaFailure.Unavailable);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var content = new MediaContent(fetched.ContentType, null, fetched.SizeBytes);
        if (fetched.NoStore) return RemoteMediaResult.Found(new RemoteMedia(fileId, content, now, Transient: true), fetched: true);
        var stored = await store.Media.AddRemoteThumbnailAsync(
            new StoredRemoteThumbnail(serverName, mediaId, KeyOf(request), fileId, fetched.ContentType, fetched.SizeBytes, now), CancellationToken.None);
        if (stored.FileId != fileId) files.DeleteContent(fileId);
        return RemoteMediaResult.Found(
            new RemoteMedia(stored.FileId, new MediaContent(stored.ContentType, null, stored.SizeBytes), stored.FetchedAt), fetched: stored.FileId == fileId);
    }

    private static bool IsValid(RemoteThumbnailRequest request) =>
        request is { Width: > 0, Height: > 0, Method: "crop" or "scale" };

    private static RemoteThumbnailKey KeyOf(RemoteThumbnailRequest request) => new(request.Width, request.Height, request.Method, request.Animated);

    private static RemoteMedia ToRemoteMedia(StoredRemoteMedia stored) =>
        new(stored.FileId, new MediaContent(stored.Content.ContentType, stored.Content.UploadName, stored.Content.SizeBytes), stored.FetchedAt);

    private sealed class SharedFetch
    {
        public Task<(RemoteMediaResult Result, DateTimeOffset EndedAt)>? Fetch { get; set; }
    }
}
