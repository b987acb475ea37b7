using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>Server-computed facts stored with an event, in its <c>unsigned</c> object (outside every hash).</summary>
/// <param name="ReplacesState">The state event this one replaced; lets readers walk state back in time.</param>
/// <param name="PrevContent">Its content, when the stored event stays within the size limit with it.</param>
internal sealed record StoredExtras(
    string? ReplacesState = null,
    JsonElement? PrevContent = null,
    string? PrevSender = null,
    ClientTransactionInfo? Transaction = null,
    byte[]? RedactedBecause = null,
    IReadOnlyList<StateEventKey>? ResolvedSlots = null,
    IReadOnlyList<ReplacedCurrentSlot>? ReplacedCurrent = null);

/// <summary>A slot of the room's current state that an event appended outside it changed, and its event before (null: none).</summary>
internal sealed record ReplacedCurrentSlot(StateEventKey Slot, string? Previous);

internal sealed record ClientTransactionInfo(string DeviceId, string TransactionId);

/// <summary>
/// The JSON the store keeps for an event: the canonical PDU, plus an <c>unsigned</c> object with
/// <see cref="StoredExtras"/>. Keys starting with <c>hs.</c> are private and never shown to clients; the client
/// transaction id is kept that way because only the sending device may see it.
/// </summary>
internal static class StoredEventJson
{
    private const string TransactionKey = "hs.transaction";

    /// <summary>
    /// The state slots (besides its own) whose current event state resolution changed when this event came in: a
    /// reader shows the current events of those slots with it (docs/adr/0041).
    /// </summary>
    public const string ResolvedStateKey = "hs.resolved_state";
    /// <summary>
    /// On an event appended outside the room's current state (a fork, or a state event of a gap; docs/adr/0041): every
    /// slot of the current state its arrival changed, with the slot's event before, possibly none. Its presence tells a
    /// reader that the event's slot is not its own replaces_state; readers walking state back in time undo these.
    /// </summary>
    public const string ReplacedCurrentKey = "hs.replaced_current";

    private const int MaxStoredBytes = EventBuilder.MaxEventBytes;

    public static bool IsPrivateKey(string name) => name.StartsWith("hs.", StringComparison.Ordinal);

    /// <summary>
    /// Adds the extras, dropping the optional ones (prev_content, then prev_sender and the transaction) when the
    /// event would otherwise exceed the size limit. Throws M_TOO_LARGE when even replaces_state does not fit.
    /// </summary>
    public static byte[] Compose(byte[] canonicalPdu, StoredExtras extras)
    {
        StoredExtras[] candidates =
        [
            extras,
            extras with { PrevContent = null },
            new StoredExtras(ReplacesState: extras.ReplacesState, RedactedBecause: extras.RedactedBecause, ReplacedCurrent: extras.ReplacedCurrent),
        ];
        foreach (var candidate in candidates)
        {
            var composed = Append(canonicalPdu, JsonOutput.Write(writer => WriteExtras(writer, candidate)));
            if (composed.Length <= MaxStoredBytes) return composed;
        }
        throw new MatrixRequestException("M_TOO_LARGE",
            $"The event is too large: with the server's data it would exceed {MaxStoredBytes} bytes.");
    }

    private static byte[] Append(byte[] canonicalPdu, byte[] unsigned)
    {
        if (unsigned.Length <= 2) return canonicalPdu;
        // "unsigned" sorts after every other top-level key of a PDU, so the result stays in canonical key order.
        var prefix = ",\"unsigned\":"u8;
        var result = new byte[canonicalPdu.Length - 1 + prefix.Length + unsigned.Length + 1];
        canonicalPdu.AsSpan(0, canonicalPdu.Length - 1).CopyTo(result);
        prefix.CopyTo(result.AsSpan(canonicalPdu.Length - 1));
        unsigned.CopyTo(result.AsSpan(canonicalPdu.Length - 1 + prefix.Length));
        result[^1] = (byte)'}';
        return result;
    }

    /// <summary>The stored event as a PDU of its room version: without this server's <c>unsigned</c> extras.</summary>
    public static System.Text.Json.Nodes.JsonObject PduOf(Pdu stored)
    {
        var pdu = System.Text.Json.Nodes.JsonNode.Parse(stored.Json.GetRawText())!.AsObject();
        pdu.Remove("unsigned");
        return pdu;
    }

    /// <summary>The stored event with one more signature (a Policy Server's), its <c>unsigned</c> extras kept as they were.</summary>
    public static byte[] WithSignature(RoomVersion version, byte[] stored, string server, string keyId, string signature)
    {
        var pdu = System.Text.Json.Nodes.JsonNode.Parse(stored)!.AsObject();
        var unsigned = pdu["unsigned"];
        pdu.Remove("unsigned");
        Federation.Signing.JsonSigning.AddSignature(pdu, server, keyId, signature);
        var canonical = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        var composed = unsigned is null ? canonical : Append(canonical, JsonSerializer.SerializeToUtf8Bytes(unsigned));
        return composed.Length <= MaxStoredBytes
            ? composed
            : throw new MatrixRequestException("M_TOO_LARGE", $"The event is too large: with its signatures it would exceed {MaxStoredBytes} bytes.");
    }

    /// <summary>
    /// The stored form of <paramref name="original"/> after <paramref name="redaction"/>: the redaction algorithm's
    /// result, keeping the original's replaces_state and transaction, with unsigned.redacted_because.
    /// </summary>
    public static byte[] Redacted(RoomVersion version, Pdu original, Pdu redaction)
    {
        var canonical = CanonicalJson.Encode(EventRedactor.Redact(version, original.Json), version.StrictCanonicalJson);
        var stored = StoredUnsigned(original.Json);
        return Compose(canonical, new StoredExtras(
            ReplacesState: stored is { } u && u.TryGetProperty("replaces_state", out var replaces) ? replaces.GetString() : null,
            Transaction: ReadTransaction(original.Json),
            ReplacedCurrent: ReplacedCurrent(original.Json),
            RedactedBecause: ClientEventWriter.WriteOne(redaction, ClientEventOptions.Shared)));
    }

    public static string? ReplacesState(JsonElement storedEvent) =>
        StoredUnsigned(storedEvent) is { } unsigned
        && unsigned.TryGetProperty("replaces_state", out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>The current-state slots the event changed when appended outside the state; null for an event appended in it.</summary>
    public static IReadOnlyList<ReplacedCurrentSlot>? ReplacedCurrent(JsonElement storedEvent)
    {
        if (StoredUnsigned(storedEvent) is not { } unsigned
            || !unsigned.TryGetProperty(ReplacedCurrentKey, out var slots) || slots.ValueKind != JsonValueKind.Array)
            return null;
        var replaced = new List<ReplacedCurrentSlot>();
        foreach (var slot in slots.EnumerateArray())
        {
            if (slot.ValueKind != JsonValueKind.Array || slot.GetArrayLength() != 3) continue;
            replaced.Add(new ReplacedCurrentSlot(new StateEventKey(slot[0].GetString()!, slot[1].GetString()!),
                slot[2].ValueKind == JsonValueKind.String ? slot[2].GetString() : null));
        }
        return replaced;
    }

    public static string? TransactionIdFor(JsonElement storedEvent, JsonElement unsigned, Reader viewer)
    {
        if (!unsigned.TryGetProperty(TransactionKey, out _)) return null;
        if (!storedEvent.TryGetProperty("sender", out var sender) || sender.GetString() != viewer.UserId) return null;
        var transaction = ReadTransaction(storedEvent);
        return transaction?.DeviceId == viewer.DeviceId ? transaction.TransactionId : null;
    }

    private static JsonElement? StoredUnsigned(JsonElement storedEvent) =>
        storedEvent.TryGetProperty("unsigned", out var unsigned) && unsigned.ValueKind == JsonValueKind.Object ? unsigned : null;

    private static ClientTransactionInfo? ReadTransaction(JsonElement storedEvent) =>
        StoredUnsigned(storedEvent) is { } unsigned
        && unsigned.TryGetProperty(TransactionKey, out var transaction)
        && transaction.ValueKind == JsonValueKind.Object
        && transaction.TryGetProperty("device_id", out var device)
        && transaction.TryGetProperty("txn_id", out var txn)
            ? new ClientTransactionInfo(device.GetString()!, txn.GetString()!)
            : null;

    private static void WriteExtras(Utf8JsonWriter writer, StoredExtras extras)
    {
        writer.WriteStartObject();
        if (extras.ReplacesState is not null) writer.WriteString("replaces_state", extras.ReplacesState);
        if (extras.PrevContent is { } prevContent)
        {
            writer.WritePropertyName("prev_content");
            prevContent.WriteTo(writer);
        }
        if (extras.PrevSender is not null) writer.WriteString("prev_sender", extras.PrevSender);
        if (extras.Transaction is { } transaction)
        {
            writer.WriteStartObject(TransactionKey);
            writer.WriteString("device_id", transaction.DeviceId);
            writer.WriteString("txn_id", transaction.TransactionId);
            writer.WriteEndObject();
        }
        if (extras.ResolvedSlots is { Count: > 0 } slots)
        {
            writer.WriteStartArray(ResolvedStateKey);
            foreach (var slot in slots)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(slot.Type);
                writer.WriteStringValue(slot.StateKey);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        if (extras.ReplacedCurrent is { } replacedCurrent)
        {
            writer.WriteStartArray(ReplacedCurrentKey);
            foreach (var (slot, previous) in replacedCurrent)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(slot.Type);
                writer.WriteStringValue(slot.StateKey);
                if (previous is null) writer.WriteNullValue();
                else writer.WriteStringValue(previous);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        if (extras.RedactedBecause is { } redactedBecause)
        {
            writer.WritePropertyName("redacted_because");
            writer.WriteRawValue(redactedBecause, skipInputValidation: true);
        }
        writer.WriteEndObject();
    }
}
