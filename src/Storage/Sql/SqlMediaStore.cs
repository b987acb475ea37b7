using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>
/// Media metadata. Creating a pending id locks the creator's account row first, so that two concurrent creations
/// cannot both pass the pending limit.
/// </summary>
internal sealed class SqlMediaStore(SqlDatabase db) : IMediaStore
{
    private const int MaxContentTypeBytes = 255;
    private const int MaxUploadNameBytes = 1024;

    public async Task<bool> CreatePendingAsync(
        string mediaId, string userId, long now, long unusedExpiresAt, int maxPending, CancellationToken cancellationToken)
    {
        Guard.Identifier(mediaId, nameof(mediaId));
        Guard.Identifier(userId, nameof(userId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await LockUserAsync(connection, transaction, userId, ct);
            var pending = await connection.Command(
                    "SELECT COUNT(*) FROM media WHERE user_id = @user AND uploaded_ts IS NULL AND unused_expires_ts > @now", transaction)
                .With("@user", userId)
                .With("@now", now)
                .ScalarAsync<long>(ct);
            if (pending >= maxPending) return false;
            return await connection.Command(
                    "INSERT INTO media (media_id, user_id, created_ts, unused_expires_ts) VALUES (@id, @user, @now, @expires) " +
                    "ON CONFLICT (media_id) DO NOTHING", transaction)
                .With("@id", mediaId)
                .With("@user", userId)
                .With("@now", now)
                .With("@expires", unusedExpiresAt)
                .ExecuteAsync(ct) == 1;
        }, cancellationToken);
    }

    public Task<bool> AddUploadedAsync(string mediaId, string userId, long now, StoredMediaContent content, CancellationToken cancellationToken) =>
        WriteContentAsync(
            "INSERT INTO media (media_id, user_id, created_ts, uploaded_ts, content_type, upload_name, size_bytes) " +
            "VALUES (@id, @user, @now, @now, @type, @name, @size) ON CONFLICT (media_id) DO NOTHING",
            mediaId, userId, now, content, cancellationToken);

    public Task<bool> CompletePendingAsync(string mediaId, string userId, long now, StoredMediaContent content, CancellationToken cancellationToken) =>
        WriteContentAsync(
            "UPDATE media SET uploaded_ts = @now, unused_expires_ts = NULL, content_type = @type, upload_name = @name, size_bytes = @size " +
            "WHERE media_id = @id AND user_id = @user AND uploaded_ts IS NULL AND unused_expires_ts > @now",
            mediaId, userId, now, content, cancellationToken);

    /// <summary>Runs one statement recording uploaded content; true when it changed a row.</summary>
    private async Task<bool> WriteContentAsync(
        string sql, string mediaId, string userId, long now, StoredMediaContent content, CancellationToken cancellationToken)
    {
        Guard.Identifier(mediaId, nameof(mediaId));
        Guard.Identifier(userId, nameof(userId));
        RequireValid(content);
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(sql, transaction)
                .With("@id", mediaId)
                .With("@user", userId)
                .With("@now", now)
                .With("@type", content.ContentType)
                .With("@name", content.UploadName)
                .With("@size", content.SizeBytes)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<StoredMedia?> GetAsync(string mediaId, CancellationToken cancellationToken)
    {
        Guard.Identifier(mediaId, nameof(mediaId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command(
                    "SELECT media_id, user_id, created_ts, unused_expires_ts, uploaded_ts, content_type, upload_name, size_bytes " +
                    "FROM media WHERE media_id = @id")
                .With("@id", mediaId)
                .SingleOrDefaultAsync(Read, ct),
            cancellationToken);
    }

    public async Task<StoredRemoteMedia?> GetRemoteAsync(string serverName, string mediaId, CancellationToken cancellationToken)
    {
        Guard.Identifier(serverName, nameof(serverName));
        Guard.Identifier(mediaId, nameof(mediaId));
        return await db.ReadAsync((connection, ct) => ReadRemoteAsync(connection, null, serverName, mediaId, ct), cancellationToken);
    }

    public async Task<StoredRemoteMedia> AddRemoteAsync(StoredRemoteMedia media, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(media);
        Guard.Identifier(media.ServerName, nameof(media.ServerName));
        Guard.Identifier(media.MediaId, nameof(media.MediaId));
        Guard.Identifier(media.FileId, nameof(media.FileId));
        RequireValid(media.Content);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await connection.Command(
                    "INSERT INTO remote_media (server_name, media_id, file_id, content_type, upload_name, size_bytes, fetched_ts, last_access_ts) " +
                    "VALUES (@server, @id, @file, @type, @name, @size, @fetched, @fetched) ON CONFLICT (server_name, media_id) DO NOTHING", transaction)
                .With("@server", media.ServerName)
                .With("@id", media.MediaId)
                .With("@file", media.FileId)
                .With("@type", media.Content.ContentType)
                .With("@name", media.Content.UploadName)
                .With("@size", media.Content.SizeBytes)
                .With("@fetched", media.FetchedAt)
                .ExecuteAsync(ct);
            return (await ReadRemoteAsync(connection, transaction, media.ServerName, media.MediaId, ct))!;
        }, cancellationToken);
    }

    public async Task<StoredRemoteThumbnail?> GetRemoteThumbnailAsync(
        string serverName, string mediaId, RemoteThumbnailKey key, CancellationToken cancellationToken)
    {
        Guard.Identifier(serverName, nameof(serverName));
        Guard.Identifier(mediaId, nameof(mediaId));
        RequireValid(key);
        return await db.ReadAsync((connection, ct) => ReadRemoteThumbnailAsync(connection, null, serverName, mediaId, key, ct), cancellationToken);
    }

    public async Task<StoredRemoteThumbnail> AddRemoteThumbnailAsync(StoredRemoteThumbnail thumbnail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(thumbnail);
        Guard.Identifier(thumbnail.ServerName, nameof(thumbnail.ServerName));
        Guard.Identifier(thumbnail.MediaId, nameof(thumbnail.MediaId));
        Guard.Identifier(thumbnail.FileId, nameof(thumbnail.FileId));
        RequireValid(thumbnail.Key);
        Guard.Text(thumbnail.ContentType, MaxContentTypeBytes, nameof(thumbnail.ContentType));
        ArgumentOutOfRangeException.ThrowIfNegative(thumbnail.SizeBytes);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await connection.Command(
                    "INSERT INTO remote_media_thumbnails (server_name, media_id, width, height, method, animated, file_id, content_type, " +
                    "size_bytes, fetched_ts, last_access_ts) VALUES (@server, @id, @width, @height, @method, @animated, @file, @type, " +
                    "@size, @fetched, @fetched) ON CONFLICT (server_name, media_id, width, height, method, animated) DO NOTHING", transaction)
                .With("@server", thumbnail.ServerName)
                .With("@id", thumbnail.MediaId)
                .With("@width", thumbnail.Key.Width)
                .With("@height", thumbnail.Key.Height)
                .With("@method", thumbnail.Key.Method)
                .With("@animated", thumbnail.Key.Animated)
                .With("@file", thumbnail.FileId)
                .With("@type", thumbnail.ContentType)
                .With("@size", thumbnail.SizeBytes)
                .With("@fetched", thumbnail.FetchedAt)
                .ExecuteAsync(ct);
            return (await ReadRemoteThumbnailAsync(connection, transaction, thumbnail.ServerName, thumbnail.MediaId, thumbnail.Key, ct))!;
        }, cancellationToken);
    }

    public async Task MarkRemoteFileUsedAsync(string fileId, long now, CancellationToken cancellationToken)
    {
        Guard.Identifier(fileId, nameof(fileId));
        await db.WriteAsync(async (connection, transaction, ct) =>
        {
            foreach (var table in new[] { "remote_media", "remote_media_thumbnails" })
                await connection.Command($"UPDATE {table} SET last_access_ts = @now WHERE file_id = @file AND last_access_ts < @now", transaction)
                    .With("@file", fileId)
                    .With("@now", now)
                    .ExecuteAsync(ct);
            return true;
        }, cancellationToken);
    }

    public async Task<long> GetRemoteCacheBytesAsync(CancellationToken cancellationToken) =>
        await db.ReadAsync((connection, ct) =>
            connection.Command(
                    "SELECT CAST((SELECT COALESCE(SUM(size_bytes), 0) FROM remote_media) + " +
                    "(SELECT COALESCE(SUM(size_bytes), 0) FROM remote_media_thumbnails) AS BIGINT)")
                .ScalarAsync<long>(ct),
            cancellationToken);

    public async Task<IReadOnlyList<CachedRemoteFile>> GetLeastRecentlyUsedRemoteFilesAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await db.ReadAsync((connection, ct) =>
            connection.Command(
                    "SELECT file_id, size_bytes, last_access_ts, 0 FROM remote_media " +
                    "UNION ALL SELECT file_id, size_bytes, last_access_ts, 1 FROM remote_media_thumbnails " +
                    "ORDER BY 3, 1 LIMIT @limit")
                .With("@limit", limit)
                .ListAsync(reader => new CachedRemoteFile(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt32(3) == 1), ct),
            cancellationToken);
    }

    public async Task<bool> RemoveRemoteFileAsync(string fileId, CancellationToken cancellationToken)
    {
        Guard.Identifier(fileId, nameof(fileId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var removed = 0;
            foreach (var table in new[] { "remote_media", "remote_media_thumbnails" })
                removed += await connection.Command($"DELETE FROM {table} WHERE file_id = @file", transaction)
                    .With("@file", fileId)
                    .ExecuteAsync(ct);
            return removed > 0;
        }, cancellationToken);
    }

    private static Task<StoredRemoteThumbnail?> ReadRemoteThumbnailAsync(
        DbConnection connection, DbTransaction? transaction, string serverName, string mediaId, RemoteThumbnailKey key, CancellationToken ct) =>
        connection.Command(
                "SELECT file_id, content_type, size_bytes, fetched_ts FROM remote_media_thumbnails WHERE server_name = @server " +
                "AND media_id = @id AND width = @width AND height = @height AND method = @method AND animated = @animated", transaction)
            .With("@server", serverName)
            .With("@id", mediaId)
            .With("@width", key.Width)
            .With("@height", key.Height)
            .With("@method", key.Method)
            .With("@animated", key.Animated)
            .SingleOrDefaultAsync(reader => new StoredRemoteThumbnail(
                serverName, mediaId, key, reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)), ct);

    private static void RequireValid(RemoteThumbnailKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(key.Width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(key.Height);
        if (key.Method is not ("crop" or "scale")) throw new ArgumentException("The method is crop or scale.", nameof(key));
    }

    private static Task<StoredRemoteMedia?> ReadRemoteAsync(
        DbConnection connection, DbTransaction? transaction, string serverName, string mediaId, CancellationToken ct) =>
        connection.Command(
                "SELECT server_name, media_id, file_id, content_type, upload_name, size_bytes, fetched_ts " +
                "FROM remote_media WHERE server_name = @server AND media_id = @id", transaction)
            .With("@server", serverName)
            .With("@id", mediaId)
            .SingleOrDefaultAsync(reader => new StoredRemoteMedia(
                reader.GetString(0), reader.GetString(1), reader.GetString(2),
                new StoredMediaContent(reader.GetString(3), reader.GetNullableString(4), reader.GetInt64(5)), reader.GetInt64(6)), ct);

    private static StoredMedia Read(DbDataReader reader)
    {
        var uploadedAt = reader.GetNullableInt64(4);
        var content = uploadedAt is null
            ? null
            : new StoredMediaContent(reader.GetString(5), reader.GetNullableString(6), reader.GetInt64(7));
        return new StoredMedia(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetNullableInt64(3), uploadedAt, content);
    }

    private static void RequireValid(StoredMediaContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        Guard.Text(content.ContentType, MaxContentTypeBytes, nameof(content.ContentType));
        Guard.OptionalText(content.UploadName, MaxUploadNameBytes, nameof(content.UploadName));
        ArgumentOutOfRangeException.ThrowIfNegative(content.SizeBytes);
    }

    private static async Task LockUserAsync(DbConnection connection, DbTransaction transaction, string userId, CancellationToken ct)
    {
        if (!await SqlAccountStore.LockAccountAsync(connection, transaction, userId, activeOnly: false, ct))
            throw new EntityNotFoundException($"Account {userId} does not exist.");
    }
}
