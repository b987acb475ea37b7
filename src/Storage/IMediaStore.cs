namespace HomeServer.Storage;

/// <summary>
/// The content repository's metadata: who created a media id, when, and what was uploaded to it. The bytes are not
/// here (docs/adr/0019). A media id is pending from its creation until its content is stored, and can only be
/// uploaded to once, by its creator, before its unused expiry.
/// </summary>
public interface IMediaStore
{
    /// <summary>
    /// Creates a pending media id for the user, provided the user has fewer than <paramref name="maxPending"/>
    /// pending ids not expired at <paramref name="now"/>. False when the limit is reached (nothing stored).
    /// </summary>
    Task<bool> CreatePendingAsync(string mediaId, string userId, long now, long unusedExpiresAt, int maxPending, CancellationToken cancellationToken);

    /// <summary>Records media uploaded in one step (POST /upload). False when the id exists already.</summary>
    Task<bool> AddUploadedAsync(string mediaId, string userId, long now, StoredMediaContent content, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the content of a pending id created by <paramref name="userId"/> that has not expired at
    /// <paramref name="now"/>; false (nothing changed) otherwise, including when it was uploaded already.
    /// </summary>
    Task<bool> CompletePendingAsync(string mediaId, string userId, long now, StoredMediaContent content, CancellationToken cancellationToken);

    /// <summary>The media id's record, pending or uploaded; null when it was never created.</summary>
    Task<StoredMedia?> GetAsync(string mediaId, CancellationToken cancellationToken);

    /// <summary>Another server's media cached here; null when it is not (docs/adr/0043).</summary>
    Task<StoredRemoteMedia?> GetRemoteAsync(string serverName, string mediaId, CancellationToken cancellationToken);

    /// <summary>
    /// Records another server's media whose file is complete. When a record for the same media exists already, it is
    /// kept and returned (the new file is then unused); otherwise <paramref name="media"/> is returned.
    /// </summary>
    Task<StoredRemoteMedia> AddRemoteAsync(StoredRemoteMedia media, CancellationToken cancellationToken);

    /// <summary>A thumbnail of another server's media as its origin made it, cached here; null when it is not (docs/adr/0049).</summary>
    Task<StoredRemoteThumbnail?> GetRemoteThumbnailAsync(string serverName, string mediaId, RemoteThumbnailKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Records a remote thumbnail whose file is complete. When one exists already for the same media and key, it is
    /// kept and returned; otherwise <paramref name="thumbnail"/> is returned.
    /// </summary>
    Task<StoredRemoteThumbnail> AddRemoteThumbnailAsync(StoredRemoteThumbnail thumbnail, CancellationToken cancellationToken);

    /// <summary>Records that the cached remote file (original or thumbnail) <paramref name="fileId"/> was served at <paramref name="now"/>.</summary>
    Task MarkRemoteFileUsedAsync(string fileId, long now, CancellationToken cancellationToken);

    /// <summary>The total size of every cached remote file, originals and thumbnails.</summary>
    Task<long> GetRemoteCacheBytesAsync(CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> cached remote files, least recently used first (ties by file id).</summary>
    Task<IReadOnlyList<CachedRemoteFile>> GetLeastRecentlyUsedRemoteFilesAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Forgets the cached remote file <paramref name="fileId"/> (original or thumbnail); false when there was no record of it.</summary>
    Task<bool> RemoveRemoteFileAsync(string fileId, CancellationToken cancellationToken);
}

/// <summary>Which thumbnail of a media: the size asked for, the method (<c>crop</c> or <c>scale</c>) and whether animated.</summary>
public sealed record RemoteThumbnailKey(int Width, int Height, string Method, bool Animated);

/// <summary>A thumbnail of another server's media as its origin server made it, cached by this one.</summary>
/// <param name="FileId">The local name of its file.</param>
public sealed record StoredRemoteThumbnail(
    string ServerName, string MediaId, RemoteThumbnailKey Key, string FileId, string ContentType, long SizeBytes, long FetchedAt);

/// <summary>One file of the remote media cache, for eviction.</summary>
/// <param name="IsThumbnail">A thumbnail from the origin; otherwise an original (whose locally made thumbnails go with it).</param>
public sealed record CachedRemoteFile(string FileId, long SizeBytes, long LastAccessAt, bool IsThumbnail);

/// <summary>Another server's media cached by this one.</summary>
/// <param name="FileId">The local name of its file (and of its thumbnails' directory).</param>
/// <param name="FetchedAt">When it was fetched (ms).</param>
public sealed record StoredRemoteMedia(
    string ServerName, string MediaId, string FileId, StoredMediaContent Content, long FetchedAt);

/// <param name="ContentType">As the uploader declared it.</param>
/// <param name="UploadName">The filename the uploader gave, or null.</param>
public sealed record StoredMediaContent(string ContentType, string? UploadName, long SizeBytes);

/// <param name="UnusedExpiresAt">Set while pending: the time after which it can no longer be uploaded to.</param>
/// <param name="UploadedAt">Null while pending.</param>
/// <param name="Content">Null while pending.</param>
public sealed record StoredMedia(
    string MediaId, string UserId, long CreatedAt, long? UnusedExpiresAt, long? UploadedAt, StoredMediaContent? Content);
