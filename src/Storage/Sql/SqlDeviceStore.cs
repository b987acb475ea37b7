using System.Data.Common;
using System.Security.Cryptography;
using System.Text;

namespace HomeServer.Storage.Sql;

internal sealed class SqlDeviceStore(SqlDatabase db) : IDeviceStore
{
    private const string Columns = "user_id, device_id, display_name, last_seen_ts, last_seen_ip";

    public async Task<bool> IssueAccessTokenAsync(NewAccessToken token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        Guard.Identifier(token.UserId, nameof(token.UserId));
        Guard.Identifier(token.DeviceId, nameof(token.DeviceId));
        Guard.Text(token.AccessToken, StoreLimits.MaxAccessTokenBytes, nameof(token.AccessToken));
        Guard.OptionalText(token.InitialDeviceDisplayName, StoreLimits.MaxDisplayNameBytes, nameof(token.InitialDeviceDisplayName));
        Guard.OptionalText(token.RefreshToken, StoreLimits.MaxAccessTokenBytes, nameof(token.RefreshToken));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            // A concurrent deactivation either completes first (and this sees it) or waits for this
            // transaction and then deletes the new token too.
            if (!await SqlAccountStore.LockAccountAsync(connection, transaction, token.UserId, activeOnly: true, ct))
            {
                return false;
            }
            await connection.Command(
                    "INSERT INTO devices (user_id, device_id, display_name) VALUES (@user, @device, @name) " +
                    "ON CONFLICT (user_id, device_id) DO NOTHING",
                    transaction)
                .With("@user", token.UserId)
                .With("@device", token.DeviceId)
                .With("@name", token.InitialDeviceDisplayName)
                .ExecuteAsync(ct);
            await DeleteTokensAsync(connection, transaction, token.UserId, token.DeviceId, ct);
            await InsertTokensAsync(connection, transaction, token, previousRefreshTokenHash: null, ct);
            return true;
        }, cancellationToken);
    }

    public async Task<AccessTokenOwner?> RefreshAsync(string refreshToken, NewAccessToken replacement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        Guard.Text(refreshToken, StoreLimits.MaxAccessTokenBytes, nameof(refreshToken));
        Guard.Text(replacement.AccessToken, StoreLimits.MaxAccessTokenBytes, nameof(replacement.AccessToken));
        Guard.Text(replacement.RefreshToken ?? throw new ArgumentException("A refresh needs a new refresh token.", nameof(replacement)),
            StoreLimits.MaxAccessTokenBytes, nameof(replacement.RefreshToken));
        var used = HashToken(refreshToken);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var rows = await connection.Command(
                    "SELECT user_id, device_id, access_token_hash, previous_token_hash FROM refresh_tokens WHERE token_hash = @hash",
                    transaction)
                .With("@hash", used)
                .ListAsync(r => (UserId: r.GetString(0), DeviceId: r.GetString(1), AccessTokenHash: r.GetBytes(2),
                    PreviousTokenHash: r.IsDBNull(3) ? null : r.GetBytes(3)), ct);
            if (rows.Count == 0 || rows[0].UserId != replacement.UserId) return null;
            var row = rows[0];

            // What an earlier use of this refresh token issued is superseded; so is the access token issued with it.
            var earlierReplacements = await connection.Command(
                    "SELECT access_token_hash FROM refresh_tokens WHERE previous_token_hash = @hash", transaction)
                .With("@hash", used)
                .ListAsync(r => r.GetBytes(0), ct);
            await connection.Command("DELETE FROM refresh_tokens WHERE previous_token_hash = @hash", transaction)
                .With("@hash", used)
                .ExecuteAsync(ct);
            foreach (var accessTokenHash in earlierReplacements.Append(row.AccessTokenHash))
            {
                await connection.Command("DELETE FROM access_tokens WHERE token_hash = @hash", transaction)
                    .With("@hash", accessTokenHash)
                    .ExecuteAsync(ct);
            }
            if (row.PreviousTokenHash is not null) await DeleteRefreshTokenAsync(connection, transaction, row.PreviousTokenHash, ct);

            await InsertTokensAsync(connection, transaction, replacement with { DeviceId = row.DeviceId }, used, ct);
            return new AccessTokenOwner(row.UserId, row.DeviceId, replacement.ExpiresTs);
        }, cancellationToken);
    }

    public async Task<bool> RevokeReplacedRefreshTokenAsync(string accessToken, CancellationToken cancellationToken)
    {
        Guard.Text(accessToken, StoreLimits.MaxAccessTokenBytes, nameof(accessToken));
        var hash = HashToken(accessToken);
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var previous = await connection.Command(
                    "SELECT previous_token_hash FROM refresh_tokens WHERE access_token_hash = @hash AND previous_token_hash IS NOT NULL",
                    transaction)
                .With("@hash", hash)
                .SingleOrDefaultAsync(r => r.GetBytes(0), ct);
            if (previous is null) return false;
            await DeleteRefreshTokenAsync(connection, transaction, previous, ct);
            await connection.Command("UPDATE refresh_tokens SET previous_token_hash = NULL WHERE access_token_hash = @hash", transaction)
                .With("@hash", hash)
                .ExecuteAsync(ct);
            return true;
        }, cancellationToken);
    }

    private async Task InsertTokensAsync(
        DbConnection connection, DbTransaction transaction, NewAccessToken token, byte[]? previousRefreshTokenHash, CancellationToken ct)
    {
        var hash = HashToken(token.AccessToken);
        try
        {
            await connection.Command(
                    "INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts) " +
                    "VALUES (@hash, @user, @device, @created, @expires)",
                    transaction)
                .With("@hash", hash)
                .With("@user", token.UserId)
                .With("@device", token.DeviceId)
                .With("@created", token.CreatedTs)
                .With("@expires", token.ExpiresTs)
                .ExecuteAsync(ct);
            if (token.RefreshToken is null) return;
            await connection.Command(
                    "INSERT INTO refresh_tokens (token_hash, user_id, device_id, access_token_hash, previous_token_hash, created_ts) " +
                    "VALUES (@refresh, @user, @device, @hash, @previous, @created)",
                    transaction)
                .With("@refresh", HashToken(token.RefreshToken))
                .With("@user", token.UserId)
                .With("@device", token.DeviceId)
                .With("@hash", hash)
                .With("@previous", previousRefreshTokenHash)
                .With("@created", token.CreatedTs)
                .ExecuteAsync(ct);
        }
        catch (DbException e) when (db.IsUniqueViolation(e))
        {
            throw new ArgumentException("This access or refresh token is already issued.", nameof(token), e);
        }
    }

    private static Task<int> DeleteRefreshTokenAsync(DbConnection connection, DbTransaction transaction, byte[] tokenHash, CancellationToken ct) =>
        connection.Command("DELETE FROM refresh_tokens WHERE token_hash = @hash", transaction)
            .With("@hash", tokenHash)
            .ExecuteAsync(ct);

    public async Task<AccessTokenOwner?> FindAccessTokenOwnerAsync(string accessToken, CancellationToken cancellationToken)
    {
        Guard.Text(accessToken, StoreLimits.MaxAccessTokenBytes, nameof(accessToken));
        var hash = HashToken(accessToken);
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT user_id, device_id, expires_ts FROM access_tokens WHERE token_hash = @hash")
                .With("@hash", hash)
                .SingleOrDefaultAsync(r => new AccessTokenOwner(r.GetString(0), r.GetString(1), r.GetNullableInt64(2)), ct),
            cancellationToken);
    }

    public async Task<Device?> GetDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {Columns} FROM devices WHERE user_id = @user AND device_id = @device")
                .With("@user", userId)
                .With("@device", deviceId)
                .SingleOrDefaultAsync(ReadDevice, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<Device>> GetDevicesAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command($"SELECT {Columns} FROM devices WHERE user_id = @user ORDER BY device_id")
                .With("@user", userId)
                .ListAsync(ReadDevice, ct),
            cancellationToken);
    }

    public async Task<bool> SetDeviceDisplayNameAsync(
        string userId, string deviceId, string? displayName, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        Guard.OptionalText(displayName, StoreLimits.MaxDisplayNameBytes, nameof(displayName));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "UPDATE devices SET display_name = @name WHERE user_id = @user AND device_id = @device", transaction)
                .With("@user", userId)
                .With("@device", deviceId)
                .With("@name", displayName)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<bool> RecordLastSeenAsync(
        string userId, string deviceId, long lastSeenTs, string? lastSeenIp, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        Guard.OptionalText(lastSeenIp, StoreLimits.MaxIpAddressBytes, nameof(lastSeenIp));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "UPDATE devices SET last_seen_ts = @ts, last_seen_ip = @ip WHERE user_id = @user AND device_id = @device",
                    transaction)
                .With("@user", userId)
                .With("@device", deviceId)
                .With("@ts", lastSeenTs)
                .With("@ip", lastSeenIp)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<int> RevokeAccessTokensAsync(string userId, string? deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.OptionalIdentifier(deviceId, nameof(deviceId));
        return await db.WriteAsync(
            (connection, transaction, ct) => DeleteTokensAsync(connection, transaction, userId, deviceId, ct),
            cancellationToken);
    }

    public async Task<bool> DeleteDeviceAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            await DeleteTokensAsync(connection, transaction, userId, deviceId, ct);
            await SqlPusherStore.DeleteForDevicesAsync(connection, transaction, userId, exceptDeviceId: null, onlyDeviceId: deviceId, ct);
            return await connection.Command("DELETE FROM devices WHERE user_id = @user AND device_id = @device", transaction)
                .With("@user", userId)
                .With("@device", deviceId)
                .ExecuteAsync(ct) == 1;
        }, cancellationToken);
    }

    public async Task<int> DeleteAllDevicesAsync(string userId, string? exceptDeviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.OptionalIdentifier(exceptDeviceId, nameof(exceptDeviceId));
        return await db.WriteAsync(
            (connection, transaction, ct) => DeleteDevicesAsync(connection, transaction, userId, exceptDeviceId, ct),
            cancellationToken);
    }

    /// <summary>Deletes the user's devices (but one, if given) and their tokens inside the caller's transaction.</summary>
    internal static async Task<int> DeleteDevicesAsync(
        DbConnection connection, DbTransaction transaction, string userId, string? exceptDeviceId, CancellationToken ct)
    {
        var keep = exceptDeviceId is null ? "" : " AND device_id <> @except";
        await SqlPusherStore.DeleteForDevicesAsync(connection, transaction, userId, exceptDeviceId, onlyDeviceId: null, ct);
        await ForUser(connection.Command($"DELETE FROM refresh_tokens WHERE user_id = @user{keep}", transaction))
            .ExecuteAsync(ct);
        await ForUser(connection.Command($"DELETE FROM access_tokens WHERE user_id = @user{keep}", transaction))
            .ExecuteAsync(ct);
        return await ForUser(connection.Command($"DELETE FROM devices WHERE user_id = @user{keep}", transaction))
            .ExecuteAsync(ct);

        DbCommand ForUser(DbCommand command)
        {
            command.With("@user", userId);
            return exceptDeviceId is null ? command : command.With("@except", exceptDeviceId);
        }
    }

    private static async Task<int> DeleteTokensAsync(
        DbConnection connection, DbTransaction transaction, string userId, string? deviceId, CancellationToken ct)
    {
        var refresh = connection.Command(
            "DELETE FROM refresh_tokens WHERE user_id = @user" + (deviceId is null ? "" : " AND device_id = @device"), transaction)
            .With("@user", userId);
        if (deviceId is not null) refresh.With("@device", deviceId);
        await refresh.ExecuteAsync(ct);
        if (deviceId is null)
        {
            return await connection.Command("DELETE FROM access_tokens WHERE user_id = @user", transaction)
                .With("@user", userId)
                .ExecuteAsync(ct);
        }
        return await connection.Command("DELETE FROM access_tokens WHERE user_id = @user AND device_id = @device", transaction)
            .With("@user", userId)
            .With("@device", deviceId)
            .ExecuteAsync(ct);
    }

    internal static byte[] HashToken(string accessToken) => SHA256.HashData(Encoding.UTF8.GetBytes(accessToken));

    private static Device ReadDevice(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetNullableString(2),
        reader.GetNullableInt64(3),
        reader.GetNullableString(4));
}
