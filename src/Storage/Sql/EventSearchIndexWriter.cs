using System.Data.Common;
using System.Text.Json;

namespace HomeServer.Storage.Sql;

/// <summary>
/// Keeps <c>event_search</c> in step with a batch inside its transaction: the searchable text of new events goes in,
/// the rows of redacted events go out. Encrypted events have no searchable key and are never indexed.
/// </summary>
internal static class EventSearchIndexWriter
{
    public static async Task WriteAsync(
        SqlDatabase db, DbConnection connection, DbTransaction transaction, EventBatch batch, IReadOnlyList<AppendedEvent> appended,
        CancellationToken ct)
    {
        for (var i = 0; i < batch.Events.Count; i++)
        {
            var e = batch.Events[i];
            if (EventSearchKeys.Of(e.Type, e.StateKey) is not { } key || SearchableText(e.Json, key) is not { } text) continue;
            await connection.Command(db.FullText.InsertSql, transaction)
                .With("@position", appended[i].GlobalPosition)
                .With("@room", batch.RoomId)
                .With("@key", key)
                .With("@value", FullTextSql.Indexable(text))
                .ExecuteAsync(ct);
        }
        foreach (var redaction in batch.Redactions)
        {
            await connection.Command(
                    $"DELETE FROM event_search WHERE {db.FullText.PositionColumn} IN (SELECT global_position FROM events WHERE event_id = @event)",
                    transaction)
                .With("@event", redaction.EventId)
                .ExecuteAsync(ct);
        }
    }

    // Events are accepted up to the input depth limit inside their content, below the default of 64 (Guard: 512).
    private static readonly JsonDocumentOptions StoredEventOptions = new() { MaxDepth = 512 };

    /// <summary>The string at the key ("content.body") of the event JSON, or null when there is none.</summary>
    private static string? SearchableText(byte[] json, string key)
    {
        using var document = JsonDocument.Parse(json, StoredEventOptions);
        var field = key["content.".Length..];
        return document.RootElement.TryGetProperty("content", out var content)
               && content.ValueKind == JsonValueKind.Object
               && content.TryGetProperty(field, out var value)
               && value.ValueKind == JsonValueKind.String
               && value.GetString() is { Length: > 0 } text
            ? text
            : null;
    }
}
