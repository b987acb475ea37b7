using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlAccountStore(SqlDatabase db) : IAccountStore
{
    private const string Columns = "user_id, password_hash, created_ts, is_admin, deactivated, display_name, avatar_url, is_guest, erased, locked, suspended";

    public async Task<bool> CreateAccountAsync(NewAccount account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        Guard.Identifier(account.UserId, nameof(account.UserId));
        Guard.OptionalText(account.PasswordHash, StoreLimits.MaxPasswordHashBytes, nameof(account.PasswordHash));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "INSERT INTO accounts (user_id, password_hash, created_ts, is_admin, deactivated, is_guest) " +
                    "VALUES (@user, @hash, @created, @admin, FALSE, @guest) ON CONFLICT (user_id) DO NOTHING",
                    transaction)
                .With("@user", account.UserId)
                .With("@hash", account.PasswordHash)
                .With("@created", account.CreatedTs)
                .With("@admin", account.IsAdmin)
                .With("@guest", account.IsGuest)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public async Task<Account?> GetAccountAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {Columns} FROM accounts WHERE user_id = @user")
                .With("@user", userId)
                .SingleOrDefaultAsync(ReadAccount, ct),
            cancellationToken);
    }

    public Task<bool> SetPasswordHashAsync(string userId, string? passwordHash, CancellationToken cancellationToken)
    {
        Guard.OptionalText(passwordHash, StoreLimits.MaxPasswordHashBytes, nameof(passwordHash));
        return UpdateAsync(userId, "password_hash", passwordHash, cancellationToken);
    }

    public async Task<bool> UpgradeGuestAsync(string userId, string passwordHash, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.OptionalText(passwordHash, StoreLimits.MaxPasswordHashBytes, nameof(passwordHash));
        ArgumentNullException.ThrowIfNull(passwordHash);
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "UPDATE accounts SET is_guest = FALSE, password_hash = @hash " +
                    "WHERE user_id = @user AND is_guest = TRUE AND deactivated = FALSE",
                    transaction)
                .With("@user", userId)
                .With("@hash", passwordHash)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    public Task<bool> SetAdminAsync(string userId, bool isAdmin, CancellationToken cancellationToken) =>
        UpdateAsync(userId, "is_admin", isAdmin, cancellationToken);

    public Task<bool> SetLockedAsync(string userId, bool locked, CancellationToken cancellationToken) =>
        UpdateAsync(userId, "locked", locked, cancellationToken);

    public Task<bool> SetSuspendedAsync(string userId, bool suspended, CancellationToken cancellationToken) =>
        UpdateAsync(userId, "suspended", suspended, cancellationToken);

    public Task<bool> SetDisplayNameAsync(string userId, string? displayName, CancellationToken cancellationToken)
    {
        Guard.OptionalText(displayName, StoreLimits.MaxDisplayNameBytes, nameof(displayName));
        return UpdateAsync(userId, "display_name", displayName, cancellationToken);
    }

    public Task<bool> SetAvatarUrlAsync(string userId, string? avatarUrl, CancellationToken cancellationToken)
    {
        Guard.OptionalText(avatarUrl, StoreLimits.MaxUrlBytes, nameof(avatarUrl));
        return UpdateAsync(userId, "avatar_url", avatarUrl, cancellationToken);
    }

    public async Task<bool> DeactivateAsync(string userId, bool erase, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            // The row lock taken here makes a concurrent token issue wait and then see the deactivation.
            var found = await connection.Command(
                    "UPDATE accounts SET deactivated = TRUE, password_hash = NULL, display_name = NULL, avatar_url = NULL" +
                    (erase ? ", erased = TRUE" : "") + " WHERE user_id = @user",
                    transaction)
                .With("@user", userId)
                .ExecuteAsync(ct) == 1;
            if (found)
            {
                await SqlDeviceStore.DeleteDevicesAsync(connection, transaction, userId, exceptDeviceId: null, ct);
                await DeleteEndToEndKeysAsync(connection, transaction, userId, ct);
            }
            if (found && erase)
            {
                foreach (var table in new[] { "global_account_data", "room_account_data" })
                {
                    await connection.Command($"DELETE FROM {table} WHERE user_id = @user", transaction).With("@user", userId).ExecuteAsync(ct);
                }
            }
            return found;
        }, cancellationToken);
    }

    /// <summary>
    /// The account's cross-signing keys, the signatures on its keys and its key backups: nobody can use them again, and
    /// other users' clients must stop trusting the keys. Backup versions keep their rows, marked deleted, as a deleted
    /// version does.
    /// </summary>
    private static async Task DeleteEndToEndKeysAsync(DbConnection connection, DbTransaction transaction, string userId, CancellationToken ct)
    {
        foreach (var statement in new[]
                 {
                     "DELETE FROM cross_signing_keys WHERE user_id = @user",
                     "DELETE FROM key_signatures WHERE target_user_id = @user",
                     "DELETE FROM key_backup_keys WHERE user_id = @user",
                     "UPDATE key_backup_versions SET deleted = TRUE WHERE user_id = @user",
                 })
        {
            await connection.Command(statement, transaction).With("@user", userId).ExecuteAsync(ct);
        }
    }

    public async Task<IReadOnlySet<string>> GetErasedUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var distinct = userIds.Distinct(StringComparer.Ordinal).ToList();
        foreach (var userId in distinct) Guard.Identifier(userId, nameof(userIds));
        if (distinct.Count == 0) return new HashSet<string>(StringComparer.Ordinal);
        var names = distinct.Select((_, i) => $"@u{i}").ToList();
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command($"SELECT user_id FROM accounts WHERE erased = TRUE AND user_id IN ({string.Join(", ", names)})");
            for (var i = 0; i < distinct.Count; i++) command.With(names[i], distinct[i]);
            return (IReadOnlySet<string>)(await command.ListAsync(reader => reader.GetString(0), ct)).ToHashSet(StringComparer.Ordinal);
        }, cancellationToken);
    }

    /// <summary>
    /// Locks the account row until the transaction ends (a no-op update, which works on both backends),
    /// so writes that depend on the account serialize with each other and with deactivation.
    /// False when there is no such account, or it is deactivated and <paramref name="activeOnly"/> is set.
    /// </summary>
    internal static async Task<bool> LockAccountAsync(
        DbConnection connection, DbTransaction transaction, string userId, bool activeOnly, CancellationToken ct) =>
        await connection.Command(
                "UPDATE accounts SET deactivated = deactivated WHERE user_id = @user" + (activeOnly ? " AND deactivated = FALSE" : ""),
                transaction)
            .With("@user", userId)
            .ExecuteAsync(ct) == 1;

    private async Task<bool> UpdateAsync(string userId, string column, object? value, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command($"UPDATE accounts SET {column} = @value WHERE user_id = @user", transaction)
                .With("@user", userId)
                .With("@value", value)
                .ExecuteAsync(ct) == 1,
            cancellationToken);
    }

    private static Account ReadAccount(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetNullableString(1),
        reader.GetInt64(2),
        reader.GetBoolean(3),
        reader.GetBoolean(4),
        reader.GetNullableString(5),
        reader.GetNullableString(6),
        reader.GetBoolean(7),
        reader.GetBoolean(8),
        reader.GetBoolean(9),
        reader.GetBoolean(10));
}
