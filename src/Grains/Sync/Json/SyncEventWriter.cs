using System.Text.Json;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync.Json;

/// <summary>
/// Writes a stored event (the room's PDU JSON with its <c>unsigned</c> extras) in the client format of /sync, copying
/// the stored bytes of each kept property instead of parsing and re-serialising the event: federation-only fields
/// and the private <c>hs.</c> extras are left out; event_id, unsigned.age and, for the device that sent the event,
/// unsigned.transaction_id are added. (GET /messages and friends use the rooms' ClientEventWriter on parsed events.)
/// </summary>
internal static class SyncEventWriter
{
    private static readonly byte[] TransactionKey = "hs.transaction"u8.ToArray();

    private static readonly string[] FederationOnly =
        ["auth_events", "prev_events", "depth", "hashes", "signatures", "origin", "prev_state", "room_id", "membership", "event_id", "unsigned"];

    public static void Write(Utf8JsonWriter writer, StoredEvent storedEvent, long nowMs, string viewerUserId, string viewerDeviceId)
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
        var ownEvent = storedEvent.Sender == viewerUserId;
        WriteUnsigned(writer, json, storedUnsigned, Math.Max(0, nowMs - storedEvent.OriginServerTs), ownEvent ? viewerDeviceId : null);
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

    /// <param name="senderDeviceId">The viewer's device when the viewer sent the event, else null (no transaction id).</param>
    private static void WriteUnsigned(Utf8JsonWriter writer, byte[] json, (long Start, long End) stored, long age, string? senderDeviceId)
    {
        writer.WritePropertyName("unsigned"u8);
        writer.WriteStartObject();
        writer.WriteNumber("age"u8, age);
        if (stored.Start >= 0)
        {
            var offset = (int)stored.Start;
            var reader = new Utf8JsonReader(json.AsSpan(offset, (int)(stored.End - stored.Start)));
            reader.Read();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTransaction = reader.ValueTextEquals(TransactionKey);
                var skip = isTransaction || reader.ValueTextEquals("age"u8) || reader.ValueTextEquals("transaction_id"u8) || IsPrivate(ref reader);
                var name = skip ? null : reader.GetString();
                reader.Read();
                var (start, end) = ValueRange(ref reader);
                if (isTransaction && senderDeviceId is not null)
                {
                    if (TransactionIdFor(json.AsSpan(offset + (int)start, (int)(end - start)), senderDeviceId) is { } transactionId)
                        writer.WriteString("transaction_id"u8, transactionId);
                }
                if (skip) continue;
                writer.WritePropertyName(name!);
                writer.WriteRawValue(json.AsSpan(offset + (int)start, (int)(end - start)), skipInputValidation: true);
            }
        }
        writer.WriteEndObject();
    }

    /// <summary>The txn_id of a stored <c>hs.transaction</c> object ({"device_id":…,"txn_id":…}) when its device is the viewer's.</summary>
    private static string? TransactionIdFor(ReadOnlySpan<byte> transaction, string deviceId)
    {
        var reader = new Utf8JsonReader(transaction);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        string? device = null, transactionId = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isDevice = reader.ValueTextEquals("device_id"u8);
            var isTransaction = reader.ValueTextEquals("txn_id"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                if (isDevice) device = reader.GetString();
                if (isTransaction) transactionId = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }
        return device == deviceId ? transactionId : null;
    }

    /// <summary>Extras whose names start with <c>hs.</c> are the server's own and never shown to clients.</summary>
    private static bool IsPrivate(ref Utf8JsonReader reader) =>
        !reader.ValueIsEscaped && reader.HasValueSequence is false && reader.ValueSpan.StartsWith("hs."u8);

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
