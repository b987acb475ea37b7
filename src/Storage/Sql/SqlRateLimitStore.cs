namespace HomeServer.Storage.Sql;

internal sealed class SqlRateLimitStore(SqlDatabase db) : IRateLimitStore
{
    public async Task<IReadOnlyList<StoredTokenBucket>> GetBucketsAsync(string subject, CancellationToken cancellationToken)
    {
        Guard.Identifier(subject, nameof(subject));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command("SELECT subject, action, tokens, updated_ts FROM rate_limit_buckets WHERE subject = @subject")
                .With("@subject", subject)
                .ListAsync(reader => new StoredTokenBucket(reader.GetString(0), reader.GetString(1), reader.GetDouble(2), reader.GetInt64(3)), ct),
            cancellationToken);
    }

    public async Task SaveBucketAsync(StoredTokenBucket bucket, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        Guard.Identifier(bucket.Subject, nameof(bucket.Subject));
        Guard.Identifier(bucket.Action, nameof(bucket.Action));
        if (!double.IsFinite(bucket.Tokens) || bucket.Tokens < 0) throw new ArgumentOutOfRangeException(nameof(bucket), "Tokens must be finite and not negative.");
        await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command(
                    "INSERT INTO rate_limit_buckets (subject, action, tokens, updated_ts) VALUES (@subject, @action, @tokens, @updated) " +
                    "ON CONFLICT (subject, action) DO UPDATE SET tokens = excluded.tokens, updated_ts = excluded.updated_ts",
                    transaction)
                .With("@subject", bucket.Subject)
                .With("@action", bucket.Action)
                .With("@tokens", bucket.Tokens)
                .With("@updated", bucket.UpdatedTs)
                .ExecuteAsync(ct),
            cancellationToken);
    }

    public async Task DeleteBucketAsync(string subject, string action, CancellationToken cancellationToken)
    {
        Guard.Identifier(subject, nameof(subject));
        Guard.Identifier(action, nameof(action));
        await db.WriteAsync(async (connection, transaction, ct) =>
            await connection.Command("DELETE FROM rate_limit_buckets WHERE subject = @subject AND action = @action", transaction)
                .With("@subject", subject)
                .With("@action", action)
                .ExecuteAsync(ct),
            cancellationToken);
    }
}
