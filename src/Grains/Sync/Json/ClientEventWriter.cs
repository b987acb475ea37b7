using System.Text.Json;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync.Json;

/// <summary>
/// Writes a stored event (the room's PDU JSON) in the client format of /sync: the stored properties are copied as raw
/// bytes, not re-serialised, except the federation-only ones; event_id and unsigned (age, transaction_id for the
/// sending device) are added.
/// </summary>
internal static class ClientEventWriter
{
    private static readonly string[] FederationOnly =
        ["auth_events", "prev_events", "depth", "hashes", "signatures", "origin", "prev_state", "room_id", "membership", "event_id", "unsigned"];

    public static void Write(Utf8JsonWriter writer, StoredEvent storedEvent, long nowMs, string? transactionId)
    {
        var json = storedEvent.Json;
        var reader = new Utf8JsonReader(json);
        reader.Read();
        writer.WriteStartObject();
        writer.WriteString("event_id"u8, storedEvent.EventId);
        var storedUnsigned = (Start: -1L, End: -1L);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUnsigned = reader.ValueTextEquals("unsigned"u8);
            var skip = isUnsigned || IsFederationOnly(ref reader);
            var name = skip ? null : reader.GetString();
            reader.Read();
            var (start, end) = ValueRange(ref reader);
            if (isUnsigned && reader.TokenType == JsonTokenType.EndObject) storedUnsigned = (start, end);
            if (skip) continue;
            writer.WritePropertyName(name!);
            writer.WriteRawValue(json.AsSpan((int)start, (int)(end - start)), skipInputValidation: true);
        }
        WriteUnsigned(writer, json, storedUnsigned, nowMs - storedEvent.OriginServerTs, transactionId);
        writer.WriteEndObject();
    }

    /// <summary>A stripped state event: type, state_key, sender and content only.</summary>
    public static void WriteStripped(Utf8JsonWriter writer, StoredEvent storedEvent)
    {
        var json = storedEvent.Json;
        var reader = new Utf8JsonReader(json);
        reader.Read();
        writer.WriteStartObject();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var keep = reader.ValueTextEquals("type"u8) || reader.ValueTextEquals("state_key"u8)
                || reader.ValueTextEquals("sender"u8) || reader.ValueTextEquals("content"u8);
            var name = keep ? reader.GetString() : null;
            reader.Read();
            var (start, end) = ValueRange(ref reader);
            if (!keep) continue;
            writer.WritePropertyName(name!);
            writer.WriteRawValue(json.AsSpan((int)start, (int)(end - start)), skipInputValidation: true);
        }
        writer.WriteEndObject();
    }

    private static void WriteUnsigned(Utf8JsonWriter writer, byte[] json, (long Start, long End) stored, long age, string? transactionId)
    {
        writer.WritePropertyName("unsigned"u8);
        writer.WriteStartObject();
        if (stored.Start >= 0)
        {
            var reader = new Utf8JsonReader(json.AsSpan((int)stored.Start, (int)(stored.End - stored.Start)));
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var ours = reader.ValueTextEquals("age"u8) || reader.ValueTextEquals("transaction_id"u8);
                var name = ours ? null : reader.GetString();
                reader.Read();
                var (start, end) = ValueRange(ref reader);
                if (ours) continue;
                writer.WritePropertyName(name!);
                writer.WriteRawValue(json.AsSpan((int)(stored.Start + start), (int)(end - start)), skipInputValidation: true);
            }
        }
        writer.WriteNumber("age"u8, age);
        if (transactionId is not null) writer.WriteString("transaction_id"u8, transactionId);
        writer.WriteEndObject();
    }

    private static bool IsFederationOnly(ref Utf8JsonReader reader)
    {
        foreach (var name in FederationOnly)
        {
            if (reader.ValueTextEquals(name)) return true;
        }
        return false;
    }

    /// <summary>The byte range of the value the reader is on, leaving the reader on its last token.</summary>
    private static (long Start, long End) ValueRange(ref Utf8JsonReader reader)
    {
        var start = reader.TokenStartIndex;
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) reader.Skip();
        return (start, reader.BytesConsumed);
    }
}
