using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlPusherStore(SqlDatabase db) : IPusherStore
{
    /// <summary>The spec's limits: a pushkey of at most 512 bytes, an app id of at most 64 characters.</summary>
    public const int MaxPushkeyBytes = 512;
    public const int MaxAppIdBytes = 256;

    private const string Columns =
        "user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, device_id, pushkey_ts";

    public async Task SetPusherAsync(StoredPusher pusher, bool append, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pusher);
        Guard.Identifier(pusher.UserId, nameof(pusher.UserId));
        Guard.Text(pusher.AppId, MaxAppIdBytes, nameof(pusher.AppId));
        Guard.Text(pusher.Pushkey, MaxPushkeyBytes, nameof(pusher.Pushkey));
        Guard.Identifier(pusher.Kind, nameof(pusher.Kind));
        Guard.Text(pusher.AppDisplayName, StoreLimits.MaxDisplayNameBytes, nameof(pusher.AppDisplayName));
        Guard.Text(pusher.DeviceDisplayName, StoreLimits.MaxDisplayNameBytes, nameof(pusher.DeviceDisplayName));
        Guard.OptionalText(pusher.ProfileTag, StoreLimits.MaxDisplayNameBytes, nameof(pusher.ProfileTag));
        Guard.Text(pusher.Lang, StoreLimits.MaxIdentifierBytes, nameof(pusher.Lang));
        Guard.JsonObject(pusher.Data, StoreLimits.MaxContentJsonBytes, nameof(pusher.Data));
        Guard.OptionalIdentifier(pusher.DeviceId, nameof(pusher.DeviceId));
        await db.WriteAsync(async (connection, transaction, ct) =>
        {
            if (!append)
            {
                await connection.Command("DELETE FROM pushers WHERE app_id = @app AND pushkey = @key AND user_id <> @user", transaction)
                    .With("@user", pusher.UserId)
                    .With("@app", pusher.AppId)
                    .With("@key", pusher.Pushkey)
                    .ExecuteAsync(ct);
            }
            await connection.Command(
                    $"INSERT INTO pushers ({Columns}) VALUES (@user, @app, @key, @kind, @appName, @deviceName, @tag, @lang, @data, @device, @ts) " +
                    "ON CONFLICT (user_id, app_id, pushkey) DO UPDATE SET kind = excluded.kind, app_display_name = excluded.app_display_name, " +
                    "device_display_name = excluded.device_display_name, profile_tag = excluded.profile_tag, lang = excluded.lang, " +
                    "data = excluded.data, device_id = excluded.device_id, pushkey_ts = excluded.pushkey_ts",
                    transaction)
                .With("@user", pusher.UserId)
                .With("@app", pusher.AppId)
                .With("@key", pusher.Pushkey)
                .With("@kind", pusher.Kind)
                .With("@appName", pusher.AppDisplayName)
                .With("@deviceName", pusher.DeviceDisplayName)
                .With("@tag", pusher.ProfileTag)
                .With("@lang", pusher.Lang)
                .With("@data", pusher.Data)
                .With("@device", pusher.DeviceId)
                .With("@ts", pusher.PushkeyTs)
                .ExecuteAsync(ct);
            return true;
        }, cancellationToken);
    }

    public async Task<bool> DeletePusherAsync(string userId, string appId, string pushkey, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(pushkey);
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command("DELETE FROM pushers WHERE user_id = @user AND app_id = @app AND pushkey = @key", transaction)
                .With("@user", userId)
                .With("@app", appId)
                .With("@key", pushkey)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredPusher>> GetPushersAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command($"SELECT {Columns} FROM pushers WHERE user_id = @user ORDER BY app_id, pushkey")
                .With("@user", userId)
                .ListAsync(Read, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredPusher>> GetPushersOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(userIds, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText = $"SELECT {Columns} FROM pushers WHERE {db.InSet(command, "user_id", "@users", userIds)} ORDER BY user_id, app_id, pushkey";
            return await command.ListAsync(Read, ct);
        }, cancellationToken);
    }

    /// <summary>Deletes the pushers of the user's devices (all but one, if given; only one, if <paramref name="onlyDeviceId"/>).</summary>
    internal static Task<int> DeleteForDevicesAsync(
        DbConnection connection, DbTransaction transaction, string userId, string? exceptDeviceId, string? onlyDeviceId, CancellationToken ct)
    {
        var command = connection.Command("", transaction).With("@user", userId);
        var sql = "DELETE FROM pushers WHERE user_id = @user";
        if (exceptDeviceId is not null)
        {
            sql += " AND (device_id IS NULL OR device_id <> @except)";
            command.With("@except", exceptDeviceId);
        }
        if (onlyDeviceId is not null)
        {
            sql += " AND device_id = @only";
            command.With("@only", onlyDeviceId);
        }
        command.CommandText = sql;
        return command.ExecuteAsync(ct);
    }

    private static StoredPusher Read(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetNullableString(6),
        r.GetString(7), r.GetBytes(8), r.GetNullableString(9), r.GetInt64(10));
}
