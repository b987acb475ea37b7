using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlFilterStore(SqlDatabase db) : IFilterStore
{
    // Two concurrent creates for one user can pick the same next id; the loser retries.
    private const int Attempts = 5;

    public async Task<long> CreateFilterAsync(string userId, byte[] filterJson, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.JsonObject(filterJson, StoreLimits.MaxContentJsonBytes, nameof(filterJson));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await db.WriteAsync((connection, transaction, ct) =>
                    connection.Command(
                            "INSERT INTO filters (user_id, filter_id, json) " +
                            "SELECT @user, COALESCE(MAX(filter_id) + 1, 0), @json FROM filters WHERE user_id = @user " +
                            "RETURNING filter_id",
                            transaction)
                        .With("@user", userId)
                        .With("@json", filterJson)
                        .ScalarAsync<long>(ct),
                    cancellationToken);
            }
            catch (DbException e) when (db.IsForeignKeyViolation(e))
            {
                throw new EntityNotFoundException($"Account {userId} does not exist.", e);
            }
            catch (DbException e) when (db.IsUniqueViolation(e) && attempt < Attempts)
            {
            }
        }
    }

    public async Task<byte[]?> GetFilterAsync(string userId, long filterId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT json FROM filters WHERE user_id = @user AND filter_id = @id")
                .With("@user", userId)
                .With("@id", filterId)
                .ScalarAsync<byte[]>(ct),
            cancellationToken);
    }
}
