using System.Text.Json;

namespace HomeServer.LoadGenerator.Http;

/// <summary>
/// Reads what the generator needs from a /sync body without building a document: <c>next_batch</c> and the
/// <see cref="SendIdProperty"/> of every message the generator sent. Thousands of clients parse every delivery on
/// the same two cores as the server, so this stays a single forward pass.
/// </summary>
public static class SyncResponseScan
{
    /// <summary>The content property carrying the sender's sequence number (the send id).</summary>
    public const string SendIdProperty = "bench_send_id";

    public static string? Scan(ReadOnlySpan<byte> body, List<long> sendIds)
    {
        var reader = new Utf8JsonReader(body);
        string? nextBatch = null;
        while (reader.Read())
        {
            if (reader.TokenType != JsonTokenType.PropertyName) continue;
            if (reader.CurrentDepth == 1 && reader.ValueTextEquals("next_batch"u8))
            {
                reader.Read();
                nextBatch = reader.GetString();
            }
            else if (reader.ValueTextEquals(SendIdProperty))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number) sendIds.Add(reader.GetInt64());
            }
        }
        return nextBatch;
    }
}
