using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    private const string CanonicalAliasType = "m.room.canonical_alias";

    // Sends in flight by (user, device, txn id): a retry that arrives before the first attempt is durable waits for
    // it instead of sending a second event. Once durable, the store's transaction ids answer.
    private readonly ConcurrentDictionary<(string User, string Device, string Txn), Lazy<Task<string>>> _sendsInFlight = new();

    public Task<string> SendMessageAsync(MessageRequest request)
    {
        RequireRoom();
        if (request.EventType == EventTypes.Redaction)
        {
            var redacts = request.Content.ValueKind == JsonValueKind.Object && request.Content.TryGetProperty("redacts", out var value)
                && value.ValueKind == JsonValueKind.String ? value.GetString()! : null;
            if (redacts is null)
                throw MatrixRequestException.BadJson("An m.room.redaction event needs content.redacts naming the event to redact.");
            return SendOnceAsync(request.SenderUserId, request.DeviceId, request.TransactionId,
                () => RedactAsync(request.SenderUserId, request.DeviceId, request.TransactionId, redacts, ContentObject(request.Content)));
        }
        if (request.EventType == EventTypes.Create)
            throw MatrixRequestException.Forbidden("A room has exactly one m.room.create event.");
        var content = ContentObject(request.Content);
        var transaction = request.TransactionId is { } txnId ? new ClientTransactionInfo(request.DeviceId, txnId) : null;
        return SendOnceAsync(request.SenderUserId, request.DeviceId, request.TransactionId, async () =>
            (await _writer.SubmitAsync(builder =>
                builder.Add(new EventSpec(request.EventType, null, request.SenderUserId, content) { Transaction = transaction }).EventId.Value))!);
    }

    public Task<string> RedactAsync(RedactionRequest request)
    {
        RequireRoom();
        var content = new JsonObject();
        if (request.Reason is not null) content["reason"] = request.Reason;
        return SendOnceAsync(request.SenderUserId, request.DeviceId, request.TransactionId,
            () => RedactAsync(request.SenderUserId, request.DeviceId, request.TransactionId, request.EventId, content));
    }

    public async Task<string> SetStateAsync(StateRequest request)
    {
        var snapshot = RequireRoom();
        if (request.EventType == EventTypes.Create)
            throw MatrixRequestException.Forbidden("A room has exactly one m.room.create event.");
        var content = ContentObject(request.Content);
        if (request.EventType == CanonicalAliasType && request.StateKey == "")
            await CheckCanonicalAliasAsync(snapshot, content);
        if (request.EventType == EventTypes.Member)
            await AddProfileAsync(request.StateKey, content);
        return (await _writer.SubmitAsync(builder =>
            builder.AddUnlessUnchanged(EventSpec.State(request.EventType, request.StateKey, request.SenderUserId, content)).EventId.Value))!;
    }

    private Task<string> SendOnceAsync(string userId, string deviceId, string? transactionId, Func<Task<string>> send)
    {
        if (transactionId is null) return send();
        var key = (userId, deviceId, transactionId);
        var attempt = _sendsInFlight.GetOrAdd(key, _ => new Lazy<Task<string>>(() => SendOrFindAsync(key, send)));
        return attempt.Value;
    }

    private async Task<string> SendOrFindAsync((string User, string Device, string Txn) key, Func<Task<string>> send)
    {
        try
        {
            return await store.TransactionIds.FindEventIdAsync(RoomId, key.User, key.Device, key.Txn, CancellationToken.None)
                ?? await send();
        }
        finally
        {
            _sendsInFlight.TryRemove(key, out _);
        }
    }

    private async Task<string> RedactAsync(string userId, string deviceId, string? transactionId, string eventId, JsonObject content)
    {
        var original = ToPdu(await RequireEventInRoomAsync(eventId));
        var transaction = transactionId is null ? null : new ClientTransactionInfo(deviceId, transactionId);
        // v10 carries the target at top level only; v11 in the content. The builder puts it where the version wants it.
        content.Remove("redacts");
        return (await _writer.SubmitAsync(builder =>
        {
            var spec = new EventSpec(EventTypes.Redaction, null, userId, (JsonObject)content.DeepClone())
            {
                RedactedOriginal = original,
                Transaction = transaction,
            };
            return builder.Add(spec).EventId.Value;
        }))!;
    }

    public async Task RemoveCanonicalAliasAsync(string alias, string userId)
    {
        if (_writer.Current is not { Exists: true }) return;
        try
        {
            await _writer.SubmitAsync(builder =>
            {
                if (builder.View.Get(CanonicalAliasType) is not { } current
                    || CanonicalAliasContent.Without(JsonObject.Create(current.Content)!, alias) is not { } content) return null;
                return builder.Add(EventSpec.State(CanonicalAliasType, "", userId, content)).EventId.Value;
            });
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_FORBIDDEN")
        {
            // As Synapse: the alias is gone either way; a deleter who may not change the state leaves it as it is.
            logger.LogInformation("{UserId} deleted {Alias} but may not update m.room.canonical_alias of {RoomId}: {Reason}", userId, alias, RoomId, e.Error);
        }
    }

    /// <summary>New aliases in m.room.canonical_alias must be valid and point to this room (existing ones are not re-checked).</summary>
    private async Task CheckCanonicalAliasAsync(RoomSnapshot snapshot, JsonObject content)
    {
        var current = snapshot.Get(CanonicalAliasType);
        var known = new HashSet<string>(StringComparer.Ordinal);
        if (current is not null) known.UnionWith(AliasesIn(JsonObject.Create(current.Content)!));
        foreach (var alias in AliasesIn(content))
        {
            if (known.Contains(alias)) continue;
            if (!Identifiers.RoomAlias.IsValid(alias))
                throw MatrixRequestException.InvalidParam($"'{alias}' is not a valid room alias.");
            var mapping = await store.Aliases.GetAliasAsync(alias, CancellationToken.None);
            if (mapping?.RoomId != RoomId)
                throw new MatrixRequestException("M_BAD_ALIAS", $"The alias '{alias}' does not point to this room.");
        }
    }

    private static IEnumerable<string> AliasesIn(JsonObject content)
    {
        if (content["alias"] is JsonNode alias)
        {
            if (alias.GetValueKind() != JsonValueKind.String) throw MatrixRequestException.InvalidParam("alias must be a string.");
            yield return alias.GetValue<string>();
        }
        if (content["alt_aliases"] is JsonNode alternatives)
        {
            if (alternatives is not JsonArray array) throw MatrixRequestException.InvalidParam("alt_aliases must be an array.");
            foreach (var item in array)
            {
                if (item?.GetValueKind() != JsonValueKind.String) throw MatrixRequestException.InvalidParam("alt_aliases must hold strings.");
                yield return item.GetValue<string>();
            }
        }
    }

    private static JsonObject ContentObject(JsonElement content) =>
        content.ValueKind == JsonValueKind.Object
            ? (JsonObject)JsonObject.Create(content)!.DeepClone()
            : throw MatrixRequestException.BadJson("The event content must be a JSON object.");
}
