using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>
/// Key backups. Every write first locks the user's account row, so writes of one user (version creation, key uploads,
/// deletions) run one at a time on both backends even from several store instances.
/// </summary>
internal sealed class SqlKeyBackupStore(SqlDatabase db) : IKeyBackupStore
{
    private const string VersionColumns =
        "v.user_id, v.version, v.algorithm, v.auth_data, v.etag, " +
        "(SELECT COUNT(*) FROM key_backup_keys k WHERE k.user_id = v.user_id AND k.version = v.version)";

    private const string KeyColumns = "room_id, session_id, first_message_index, forwarded_count, is_verified, session_data";

    private const string CurrentVersion = "SELECT MAX(version) FROM key_backup_versions WHERE user_id = @user AND deleted = FALSE";

    public async Task<long> CreateVersionAsync(string userId, string algorithm, byte[] authData, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(algorithm, nameof(algorithm));
        Guard.JsonObject(authData, StoreLimits.MaxContentJsonBytes, nameof(authData));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await LockUserAsync(connection, transaction, userId, ct);
            return await connection.Command(
                    "INSERT INTO key_backup_versions (user_id, version, algorithm, auth_data) " +
                    "SELECT @user, COALESCE(MAX(version), 0) + 1, @algorithm, @auth FROM key_backup_versions WHERE user_id = @user " +
                    "RETURNING version",
                    transaction)
                .With("@user", userId)
                .With("@algorithm", algorithm)
                .With("@auth", authData)
                .ScalarAsync<long>(ct);
        }, cancellationToken);
    }

    public async Task<StoredBackupVersion?> GetVersionAsync(string userId, long version, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {VersionColumns} FROM key_backup_versions v WHERE v.user_id = @user AND v.version = @version AND v.deleted = FALSE")
                .With("@user", userId)
                .With("@version", version)
                .SingleOrDefaultAsync(ReadVersion, ct),
            cancellationToken);
    }

    public async Task<StoredBackupVersion?> GetCurrentVersionAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {VersionColumns} FROM key_backup_versions v WHERE v.user_id = @user AND v.version = ({CurrentVersion})")
                .With("@user", userId)
                .SingleOrDefaultAsync(ReadVersion, ct),
            cancellationToken);
    }

    public async Task<bool> UpdateAuthDataAsync(string userId, long version, byte[] authData, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.JsonObject(authData, StoreLimits.MaxContentJsonBytes, nameof(authData));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "UPDATE key_backup_versions SET auth_data = @auth WHERE user_id = @user AND version = @version AND deleted = FALSE",
                    transaction)
                .With("@user", userId)
                .With("@version", version)
                .With("@auth", authData)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<bool> DeleteVersionAsync(string userId, long version, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await LockUserAsync(connection, transaction, userId, ct);
            await connection.Command("DELETE FROM key_backup_keys WHERE user_id = @user AND version = @version", transaction)
                .With("@user", userId)
                .With("@version", version)
                .ExecuteAsync(ct);
            return await connection.Command(
                    "UPDATE key_backup_versions SET deleted = TRUE WHERE user_id = @user AND version = @version", transaction)
                .With("@user", userId)
                .With("@version", version)
                .ExecuteAsync(ct) == 1;
        }, cancellationToken);
    }

    public async Task<BackupKeysState?> PutKeysAsync(
        string userId, long version, IReadOnlyList<BackupSessionKey> keys, Func<BackupSessionKey, BackupSessionKey, bool> replaces,
        CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(replaces);
        foreach (var key in keys) RequireValid(key);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await LockUserAsync(connection, transaction, userId, ct);
            var current = await connection.Command(CurrentVersion, transaction).With("@user", userId).ScalarAsync<long>(ct);
            if (current != version) return null;
            var stored = await ReadStoredAsync(connection, transaction, userId, version, keys.Select(k => k.RoomId).Distinct().ToList(), ct);
            var written = 0;
            foreach (var key in keys)
            {
                if (stored.TryGetValue((key.RoomId, key.SessionId), out var old) && !replaces(old, key)) continue;
                await connection.Command(
                        $"INSERT INTO key_backup_keys (user_id, version, {KeyColumns}) " +
                        "VALUES (@user, @version, @room, @session, @index, @forwarded, @verified, @data) " +
                        "ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET " +
                        "first_message_index = excluded.first_message_index, forwarded_count = excluded.forwarded_count, " +
                        "is_verified = excluded.is_verified, session_data = excluded.session_data",
                        transaction)
                    .With("@user", userId)
                    .With("@version", version)
                    .With("@room", key.RoomId)
                    .With("@session", key.SessionId)
                    .With("@index", key.FirstMessageIndex)
                    .With("@forwarded", key.ForwardedCount)
                    .With("@verified", key.IsVerified)
                    .With("@data", key.SessionData)
                    .ExecuteAsync(ct);
                stored[(key.RoomId, key.SessionId)] = key;
                written++;
            }
            return await StateAfterAsync(connection, transaction, userId, version, changed: written > 0, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<BackupSessionKey>> GetKeysAsync(
        string userId, long version, string? roomId, string? sessionId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        RequireSelection(roomId, sessionId);
        return await db.ReadAsync(async (connection, ct) =>
            await Selecting(connection.Command(
                    $"SELECT {KeyColumns} FROM key_backup_keys k WHERE k.user_id = @user AND k.version = @version " +
                    "AND EXISTS (SELECT 1 FROM key_backup_versions v WHERE v.user_id = @user AND v.version = @version AND v.deleted = FALSE)" +
                    Selection(roomId, sessionId) + " ORDER BY room_id, session_id"),
                    userId, version, roomId, sessionId)
                .ListAsync(ReadKey, ct),
            cancellationToken);
    }

    public async Task<BackupKeysState?> DeleteKeysAsync(
        string userId, long version, string? roomId, string? sessionId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        RequireSelection(roomId, sessionId);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await LockUserAsync(connection, transaction, userId, ct);
            var exists = await connection.Command(
                    "SELECT version FROM key_backup_versions WHERE user_id = @user AND version = @version AND deleted = FALSE", transaction)
                .With("@user", userId)
                .With("@version", version)
                .ScalarAsync<long>(ct);
            if (exists == 0) return null;
            var deleted = await Selecting(connection.Command(
                    "DELETE FROM key_backup_keys WHERE user_id = @user AND version = @version" + Selection(roomId, sessionId), transaction),
                    userId, version, roomId, sessionId)
                .ExecuteAsync(ct);
            return await StateAfterAsync(connection, transaction, userId, version, changed: deleted > 0, ct);
        }, cancellationToken);
    }

    private static async Task LockUserAsync(DbConnection connection, DbTransaction transaction, string userId, CancellationToken ct)
    {
        if (!await SqlAccountStore.LockAccountAsync(connection, transaction, userId, activeOnly: false, ct))
            throw new EntityNotFoundException($"Account {userId} does not exist.");
    }

    /// <summary>The stored keys of the version in the rooms, by room and session.</summary>
    private async Task<Dictionary<(string, string), BackupSessionKey>> ReadStoredAsync(
        DbConnection connection, DbTransaction transaction, string userId, long version, IReadOnlyCollection<string> roomIds, CancellationToken ct)
    {
        if (roomIds.Count == 0) return [];
        var command = connection.Command("", transaction).With("@user", userId).With("@version", version);
        command.CommandText =
            $"SELECT {KeyColumns} FROM key_backup_keys WHERE user_id = @user AND version = @version AND {db.InSet(command, "room_id", "@rooms", roomIds)}";
        var keys = await command.ListAsync(ReadKey, ct);
        return keys.ToDictionary(k => (k.RoomId, k.SessionId));
    }

    private static async Task<BackupKeysState> StateAfterAsync(
        DbConnection connection, DbTransaction transaction, string userId, long version, bool changed, CancellationToken ct)
    {
        if (changed)
        {
            await connection.Command("UPDATE key_backup_versions SET etag = etag + 1 WHERE user_id = @user AND version = @version", transaction)
                .With("@user", userId)
                .With("@version", version)
                .ExecuteAsync(ct);
        }
        var state = await connection.Command($"SELECT {VersionColumns} FROM key_backup_versions v WHERE v.user_id = @user AND v.version = @version", transaction)
            .With("@user", userId)
            .With("@version", version)
            .SingleOrDefaultAsync(ReadVersion, ct);
        return new BackupKeysState(state!.Etag, state.Count);
    }

    private static string Selection(string? roomId, string? sessionId) =>
        (roomId is null ? "" : " AND room_id = @room") + (sessionId is null ? "" : " AND session_id = @session");

    private static DbCommand Selecting(DbCommand command, string userId, long version, string? roomId, string? sessionId)
    {
        command.With("@user", userId).With("@version", version);
        if (roomId is not null) command.With("@room", roomId);
        if (sessionId is not null) command.With("@session", sessionId);
        return command;
    }

    private static void RequireSelection(string? roomId, string? sessionId)
    {
        Guard.OptionalIdentifier(roomId, nameof(roomId));
        Guard.OptionalIdentifier(sessionId, nameof(sessionId));
        if (sessionId is not null && roomId is null) throw new ArgumentException("a session is selected within a room", nameof(sessionId));
    }

    private static void RequireValid(BackupSessionKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Guard.Identifier(key.RoomId, nameof(key.RoomId));
        Guard.Identifier(key.SessionId, nameof(key.SessionId));
        Guard.Position(key.FirstMessageIndex, nameof(key.FirstMessageIndex));
        Guard.Position(key.ForwardedCount, nameof(key.ForwardedCount));
        Guard.JsonObject(key.SessionData, StoreLimits.MaxContentJsonBytes, nameof(key.SessionData));
    }

    private static StoredBackupVersion ReadVersion(DbDataReader reader) => new(
        reader.GetString(0), reader.GetInt64(1), reader.GetString(2), reader.GetBytes(3), reader.GetInt64(4), reader.GetInt64(5));

    private static BackupSessionKey ReadKey(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetBoolean(4), reader.GetBytes(5));
}
