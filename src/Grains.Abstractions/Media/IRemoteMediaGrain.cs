using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Media;

/// <summary>Another server's media (or a thumbnail of it) as cached here: its content and the local file holding the bytes.</summary>
/// <param name="FileId">The name of the cached file under the media directory (laid out like a local media id's).</param>
/// <param name="FetchedAt">When it was fetched (ms).</param>
/// <param name="Transient">
/// The origin forbade storing it (<c>Cache-Control: no-store</c>): nothing records the file, which the caller serves
/// once and deletes (docs/adr/0049).
/// </param>
[GenerateSerializer, Immutable, Alias("hs.RemoteMedia")]
public sealed record RemoteMedia(string FileId, MediaContent Content, long FetchedAt, bool Transient = false);

/// <summary>A thumbnail asked of another server: the size, the method (<c>crop</c> or <c>scale</c>), and whether animated.</summary>
[GenerateSerializer, Immutable, Alias("hs.RemoteThumbnailRequest")]
public sealed record RemoteThumbnailRequest(int Width, int Height, string Method, bool Animated);

/// <summary>Why another server's media could not be had.</summary>
public enum RemoteMediaFailure
{
    /// <summary>The remote server says it has no such media (or the ids are not well formed).</summary>
    NotFound,
    /// <summary>The remote server has the id but not yet its content.</summary>
    NotYetUploaded,
    /// <summary>Larger than this server accepts (its upload limit), or the remote said it is too large to serve.</summary>
    TooLarge,
    /// <summary>No answer in time.</summary>
    TimedOut,
    /// <summary>No usable answer: unreachable, refused address, TLS failure, malformed answer, unexpected status.</summary>
    Unavailable,
    /// <summary>Not cached and fetching was not allowed.</summary>
    NotCached,
    /// <summary>The origin has no thumbnail to give (does not know the endpoint, 404, cannot thumbnail): one is made here.</summary>
    NoThumbnail,
}

/// <summary>The outcome of asking for another server's media: the media, a failure, or (for a long fetch) "ask again".</summary>
/// <param name="Fetched">The media was fetched for this answer (not served from the cache): the cache may have grown.</param>
[GenerateSerializer, Immutable, Alias("hs.RemoteMediaResult")]
public sealed record RemoteMediaResult(RemoteMedia? Media, RemoteMediaFailure? Failure, bool InProgress = false, bool Fetched = false)
{
    public static RemoteMediaResult Found(RemoteMedia media, bool fetched = false) => new(media, null, Fetched: fetched);

    public static RemoteMediaResult Failed(RemoteMediaFailure failure) => new(null, failure);

    public static readonly RemoteMediaResult StillFetching = new(null, null, InProgress: true);
}

/// <summary>
/// One other server's media id (key: <c>{serverName}/{mediaId}</c>, see <see cref="RemoteMediaKey"/>): fetches it
/// once over federation into the local file store and records it, so that concurrent and later requests for it
/// anywhere in the cluster are served from the cache (docs/adr/0043).
/// </summary>
[Alias("remote-media")]
public interface IRemoteMediaGrain : IGrainWithStringKey
{
    /// <summary>The cached media, or <see cref="RemoteMediaFailure.NotCached"/>; never contacts the remote server.</summary>
    [Idempotent]
    Task<RemoteMediaResult> GetCachedAsync();

    /// <summary>
    /// The cached media, else fetches it (one fetch at a time per media id, shared by every caller). Waits at most
    /// <paramref name="maxWait"/>; a fetch still running then answers <see cref="RemoteMediaResult.InProgress"/> and
    /// the caller asks again.
    /// </summary>
    /// <param name="maxBytes">The largest content accepted; a longer answer is cut off (<see cref="RemoteMediaFailure.TooLarge"/>).</param>
    /// <param name="notYetUploadedWait">Passed to the remote server as <c>timeout_ms</c>.</param>
    Task<RemoteMediaResult> FetchAsync(long maxBytes, TimeSpan notYetUploadedWait, TimeSpan maxWait);

    /// <summary>The origin's thumbnail as cached here, or <see cref="RemoteMediaFailure.NotCached"/>; never contacts the remote server.</summary>
    [Idempotent]
    Task<RemoteMediaResult> GetCachedThumbnailAsync(RemoteThumbnailRequest request);

    /// <summary>
    /// The origin's thumbnail for <paramref name="request"/>, from the cache or asked of the origin (one fetch at a time
    /// per request, shared like <see cref="FetchAsync"/>). <see cref="RemoteMediaFailure.NoThumbnail"/> when the origin
    /// has none; it is then not asked again for this media while the grain is active, and the caller makes the
    /// thumbnail from the original (docs/adr/0049).
    /// </summary>
    Task<RemoteMediaResult> FetchThumbnailAsync(RemoteThumbnailRequest request, long maxBytes, TimeSpan notYetUploadedWait, TimeSpan maxWait);
}

/// <summary>
/// The bound on the remote media cache (docs/adr/0049): one activation (key <see cref="TheCache"/>) evicts the least recently used cached
/// files of other servers' media, originals (with the thumbnails made here from them) and origin thumbnails, until the
/// total is within the bound. Local media is never touched. Evicted media is fetched again when next asked for.
/// </summary>
[Alias("remote-media-cache")]
public interface IRemoteMediaCacheGrain : IGrainWithStringKey
{
    /// <summary>The key of the one activation.</summary>
    public const string TheCache = "remote-media";

    /// <summary>Evicts until the cache holds at most <paramref name="maxBytes"/>, never <paramref name="keepFileId"/> (just fetched, about to be served).</summary>
    Task TrimAsync(long maxBytes, string keepFileId);
}

public static class RemoteMediaKey
{
    /// <summary>Server names never contain '/', so the first '/' separates the two.</summary>
    public static string Of(string serverName, string mediaId) => serverName + "/" + mediaId;

    public static (string ServerName, string MediaId) Parse(string key)
    {
        var slash = key.IndexOf('/');
        return (key[..slash], key[(slash + 1)..]);
    }

    /// <summary>The spec's media id grammar: <c>[A-Za-z0-9_-]+</c>.</summary>
    public static bool IsWellFormedMediaId(string? mediaId) =>
        mediaId is { Length: > 0 and <= 255 } && mediaId.All(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-');
}

/// <summary>
/// Where the bytes of cached remote media are written: the content repository's file store, shared by every process
/// of a cluster (docs/adr/0019). Implemented by the gateway's media files; used by <see cref="IRemoteMediaGrain"/>.
/// </summary>
public interface IMediaContentFiles
{
    /// <summary>
    /// Copies <paramref name="body"/> into the content file of <paramref name="fileId"/> (a new name), reading at most
    /// <paramref name="maxBytes"/>; returns its length, or null (nothing kept) when the body is longer.
    /// </summary>
    Task<long?> WriteContentAsync(string fileId, Stream body, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Removes the content file of <paramref name="fileId"/>, if it exists.</summary>
    void DeleteContent(string fileId);

    /// <summary>Whether the content file of <paramref name="fileId"/> exists (an evicted one does not).</summary>
    bool ContentExists(string fileId);

    /// <summary>Removes the thumbnails made here from the content of <paramref name="fileId"/>, if any.</summary>
    void DeleteThumbnails(string fileId);
}
