using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Serialization;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync.Json;

/// <summary>
/// Writes a stored event (the room's PDU JSON with its <c>unsigned</c> extras) in the client format of /sync, in two
/// steps: <see cref="Share"/> copies the stored bytes of each kept property once into a <see cref="SharedEvent"/>
/// (federation-only fields and the private <c>hs.</c> extras left out, event_id added), and
/// <see cref="WriteForViewer"/> appends what depends on the reader: unsigned.age and, for the device that sent the
/// event, unsigned.transaction_id. Rooms share each event once for all readers; the store path uses the same two
/// steps per reader, so both produce the same bytes. (GET /messages and friends use the rooms' ClientEventWriter.)
/// </summary>
internal static class SyncEventWriter
{
    private static readonly byte[] TransactionKey = "hs.transaction"u8.ToArray();

    private static readonly string[] FederationOnly =
        ["auth_events", "prev_events", "depth", "hashes", "signatures", "origin", "prev_state", "room_id", "membership", "event_id", "unsigned"];

    /// <summary>What the federation format (the PDU as stored) leaves out: unsigned is written per reader, event_id first.</summary>
    private static readonly string[] NotInFederationFormat = ["event_id", "unsigned"];

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_scratch;

    /// <summary>Writes a stored event for one reader (the store path: one serialisation per reader).</summary>
    public static void Write(
        Utf8JsonWriter writer, StoredEvent storedEvent, long nowMs, string viewerUserId, string viewerDeviceId,
        EventFormat format = EventFormat.Client)
    {
        SyncMetrics.EventsSerialised.Add(1, new KeyValuePair<string, object?>("source", "store"));
        WriteForViewer(writer, Share(storedEvent, format), nowMs, viewerUserId, viewerDeviceId);
    }

    /// <summary>The reader-independent part of the event's client format (or, for a filter's event_format federation, of the PDU).</summary>
    public static SharedEvent Share(StoredEvent storedEvent) => Share(storedEvent, EventFormat.Client);

    private static SharedEvent Share(StoredEvent storedEvent, EventFormat format)
    {
        var skipped = format == EventFormat.Federation ? NotInFederationFormat : FederationOnly;
        var json = storedEvent.Json;
        var body = new ArrayBufferWriter<byte>(json.Length + 64);
        var unsignedRest = Array.Empty<byte>();
        ClientTransactionInfo? transaction = null;
        var contentHasUrl = false;
        using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { SkipValidation = true }))
        {
            var reader = new Utf8JsonReader(json, StoredJson.ReaderOptions);
            reader.Read();
            writer.WriteStartObject();
            writer.WriteString("event_id"u8, storedEvent.EventId);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isUnsigned = reader.ValueTextEquals("unsigned"u8);
                var isContent = reader.ValueTextEquals("content"u8);
                var skip = isUnsigned || IsOneOf(ref reader, skipped);
                var name = skip ? null : reader.GetString();
                reader.Read();
                var (start, end) = ValueRange(ref reader);
                if (isUnsigned && reader.TokenType == JsonTokenType.EndObject)
                    (unsignedRest, transaction) = SplitUnsigned(json.AsSpan((int)start, (int)(end - start)));
                if (isContent && reader.TokenType == JsonTokenType.EndObject)
                    contentHasUrl = HasProperty(json.AsSpan((int)start, (int)(end - start)), "url"u8);
                if (skip) continue;
                writer.WritePropertyName(name!);
                writer.WriteRawValue(json.AsSpan((int)start, (int)(end - start)), skipInputValidation: true);
            }
            // Left open: the reader's unsigned object and the closing brace are appended per reader.
            writer.Flush();
        }
        return new SharedEvent(storedEvent.EventId, storedEvent.RoomPosition, storedEvent.GlobalPosition, storedEvent.Type,
            storedEvent.StateKey, storedEvent.Sender, storedEvent.OriginServerTs, contentHasUrl,
            body.WrittenSpan.ToArray(), unsignedRest, transaction?.DeviceId, transaction?.TransactionId,
            ResolvesOtherState: StoredEventFacts.ResolvesOtherState(json));
    }

    /// <summary>Writes the shared event with the reader's unsigned object: age first, the transaction id for the sending device, then the stored extras.</summary>
    public static void WriteForViewer(Utf8JsonWriter writer, SharedEvent sharedEvent, long nowMs, string viewerUserId, string viewerDeviceId)
    {
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(4096);
        scratch.ResetWrittenCount();
        scratch.Write(sharedEvent.Body);
        scratch.Write(",\"unsigned\":{\"age\":"u8);
        var age = Math.Max(0, nowMs - sharedEvent.OriginServerTs);
        Utf8Formatter.TryFormat(age, scratch.GetSpan(20), out var written);
        scratch.Advance(written);
        if (sharedEvent.TransactionId is { } transactionId && sharedEvent.Sender == viewerUserId
            && sharedEvent.TransactionDeviceId == viewerDeviceId)
        {
            scratch.Write(",\"transaction_id\":"u8);
            WriteString(scratch, transactionId);
        }
        if (sharedEvent.UnsignedRest.Length > 0)
        {
            scratch.Write(","u8);
            scratch.Write(sharedEvent.UnsignedRest);
        }
        scratch.Write("}}"u8);
        writer.WriteRawValue(scratch.WrittenSpan, skipInputValidation: true);
    }

    /// <summary>A stripped state event: type, state_key, sender and content only.</summary>
    public static void WriteStripped(Utf8JsonWriter writer, StoredEvent storedEvent)
    {
        var json = storedEvent.Json;
        var reader = new Utf8JsonReader(json, StoredJson.ReaderOptions);
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

    /// <summary>
    /// Splits a stored unsigned object into the properties every reader sees (comma-separated, without braces) and the
    /// private client transaction; age and transaction_id are always written per reader instead.
    /// </summary>
    private static (byte[] Shown, ClientTransactionInfo? Transaction) SplitUnsigned(ReadOnlySpan<byte> unsigned)
    {
        var rest = new ArrayBufferWriter<byte>(unsigned.Length + 2);
        ClientTransactionInfo? transaction = null;
        using (var writer = new Utf8JsonWriter(rest, new JsonWriterOptions { SkipValidation = true }))
        {
            var reader = new Utf8JsonReader(unsigned, StoredJson.ReaderOptions);
            reader.Read();
            writer.WriteStartObject();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTransaction = reader.ValueTextEquals(TransactionKey);
                var skip = isTransaction || reader.ValueTextEquals("age"u8) || reader.ValueTextEquals("transaction_id"u8) || IsPrivate(ref reader);
                var name = skip ? null : reader.GetString();
                reader.Read();
                var (start, end) = ValueRange(ref reader);
                if (isTransaction) transaction = ReadTransaction(unsigned[(int)start..(int)end]);
                if (skip) continue;
                writer.WritePropertyName(name!);
                writer.WriteRawValue(unsigned[(int)start..(int)end], skipInputValidation: true);
            }
            writer.WriteEndObject();
        }
        var written = rest.WrittenSpan;
        return (written.Length <= 2 ? [] : written[1..^1].ToArray(), transaction);
    }

    private static bool HasProperty(ReadOnlySpan<byte> jsonObject, ReadOnlySpan<byte> name)
    {
        var reader = new Utf8JsonReader(jsonObject, StoredJson.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name)) return true;
            reader.Read();
            reader.Skip();
        }
        return false;
    }

    /// <summary>The device and txn_id of a stored <c>hs.transaction</c> object ({"device_id":…,"txn_id":…}).</summary>
    private static ClientTransactionInfo? ReadTransaction(ReadOnlySpan<byte> transaction)
    {
        var reader = new Utf8JsonReader(transaction, StoredJson.ReaderOptions);
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
        return device is not null && transactionId is not null ? new ClientTransactionInfo(device, transactionId) : null;
    }

    /// <summary>A JSON string with the same escaping as the response writer's.</summary>
    private static void WriteString(ArrayBufferWriter<byte> target, string value)
    {
        using var writer = new Utf8JsonWriter(target, new JsonWriterOptions { SkipValidation = true });
        writer.WriteStringValue(value);
    }

    /// <summary>Extras whose names start with <c>hs.</c> are the server's own and never shown to clients.</summary>
    private static bool IsPrivate(ref Utf8JsonReader reader) =>
        !reader.ValueIsEscaped && reader.HasValueSequence is false && reader.ValueSpan.StartsWith("hs."u8);

    private static bool IsOneOf(ref Utf8JsonReader reader, string[] names)
    {
        foreach (var name in names)
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
