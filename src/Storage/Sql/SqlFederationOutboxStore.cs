namespace HomeServer.Storage.Sql;

internal sealed class SqlFederationOutboxStore(SqlDatabase db) : IFederationOutboxStore
{
    public Task EnqueueAsync(IReadOnlyList<NewOutboxEdu> edus, CancellationToken cancellationToken)
    {
        foreach (var edu in edus)
        {
            Guard.Identifier(edu.Destination, nameof(edus));
            Guard.Identifier(edu.EduType, nameof(edus));
        }
        if (edus.Count == 0) return Task.CompletedTask;
        return db.WriteAsync(async (connection, transaction, ct) =>
        {
            foreach (var edu in edus)
            {
                await connection.Command(
                        "INSERT INTO federation_outbox (destination, edu_type, content, created_ts) VALUES (@d, @type, @content, @ts)", transaction)
                    .With("@d", edu.Destination)
                    .With("@type", edu.EduType)
                    .With("@content", edu.Content)
                    .With("@ts", edu.CreatedTs)
                    .ExecuteAsync(ct);
            }
            return edus.Count;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<OutboxEdu>> GetAsync(string destination, int limit, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT id, edu_type, content FROM federation_outbox WHERE destination = @d ORDER BY id LIMIT @limit")
                .With("@d", destination)
                .With("@limit", limit)
                .ListAsync(r => new OutboxEdu(r.GetInt64(0), r.GetString(1), r.GetBytes(2)), ct), cancellationToken);
    }

    public Task DeleteAsync(string destination, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        Guard.Identifier(destination, nameof(destination));
        if (ids.Count == 0) return Task.CompletedTask;
        return db.WriteAsync(async (connection, transaction, ct) =>
        {
            var deleted = 0;
            foreach (var id in ids)
            {
                deleted += await connection.Command("DELETE FROM federation_outbox WHERE destination = @d AND id = @id", transaction)
                    .With("@d", destination)
                    .With("@id", id)
                    .ExecuteAsync(ct);
            }
            return deleted;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ListDestinationsAsync(CancellationToken cancellationToken) =>
        await db.ReadAsync((connection, ct) =>
                connection.Command("SELECT DISTINCT destination FROM federation_outbox ORDER BY destination").ListAsync(r => r.GetString(0), ct),
            cancellationToken);
}
