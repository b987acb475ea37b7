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
        var hash = HashToken(token.AccessToken);
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
            try
            {
                await connection.Command(
                        "INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts) VALUES (@hash, @user, @device, @created)",
                        transaction)
                    .With("@hash", hash)
                    .With("@user", token.UserId)
                    .With("@device", token.DeviceId)
                    .With("@created", token.CreatedTs)
                    .ExecuteAsync(ct);
            }
            catch (DbException e) when (db.IsUniqueViolation(e))
            {
                throw new ArgumentException("This access token is already issued.", nameof(token), e);
            }
            return true;
        }, cancellationToken);
    }

    public async Task<AccessTokenOwner?> FindAccessTokenOwnerAsync(string accessToken, CancellationToken cancellationToken)
    {
        Guard.Text(accessToken, StoreLimits.MaxAccessTokenBytes, nameof(accessToken));
        var hash = HashToken(accessToken);
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT user_id, device_id FROM access_tokens WHERE token_hash = @hash")
                .With("@hash", hash)
                .SingleOrDefaultAsync(r => new AccessTokenOwner(r.GetString(0), r.GetString(1)), ct),
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

    private static Task<int> DeleteTokensAsync(
        DbConnection connection, DbTransaction transaction, string userId, string? deviceId, CancellationToken ct)
    {
        if (deviceId is null)
        {
            return connection.Command("DELETE FROM access_tokens WHERE user_id = @user", transaction)
                .With("@user", userId)
                .ExecuteAsync(ct);
        }
        return connection.Command("DELETE FROM access_tokens WHERE user_id = @user AND device_id = @device", transaction)
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
