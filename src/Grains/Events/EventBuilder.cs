using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>Builds, hashes, signs and identifies new events in the format of their room version.</summary>
public static class EventBuilder
{
    public const int MaxEventBytes = 65536;
    public const int MaxKeyBytes = 255;
    public const int MaxPrevEvents = 20;
    public const int MaxAuthEvents = 10;

    /// <param name="signingKey">
    /// The key of the sender's server, which signs the event; for an invite made from a third-party invite, the key of
    /// any server in the room (the identity server's signature vouches for it, so the sender's server need not sign).
    /// </param>
    public static BuiltEvent Build(EventDraft draft, ServerSigningKey signingKey)
    {
        Validate(draft);
        if (signingKey.ServerName != draft.Sender.Server.ToString() && !IsThirdPartyInvite(draft))
            throw new ArgumentException(
                $"The key of {signingKey.ServerName} cannot sign an event sent by {draft.Sender}.", nameof(signingKey));
        var version = draft.RoomVersion;
        var content = (JsonObject)draft.Content.DeepClone();

        var pdu = new JsonObject
        {
            ["auth_events"] = References(draft, draft.AuthEvents),
            ["content"] = content,
            ["depth"] = draft.Depth,
            ["origin_server_ts"] = draft.OriginServerTs,
            ["prev_events"] = References(draft, draft.PrevEvents),
            ["room_id"] = draft.RoomId.Value,
            ["sender"] = draft.Sender.Value,
            ["type"] = draft.Type,
        };
        if (draft.StateKey is not null)
            pdu["state_key"] = draft.StateKey;
        if (draft.Type == EventTypes.Redaction)
            SetRedacts(version, pdu, content, draft.Redacts);
        // v1/v2: the sending server names the event, and the ID is part of what the hashes cover.
        if (version.EventIdInEvent)
            pdu["event_id"] = EventId.Opaque(RandomNumberGenerator.GetString(OpaqueIdAlphabet, 18), signingKey.ServerName).Value;

        byte[] contentHash;
        try
        {
            contentHash = EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson);
        }
        catch (CanonicalJsonException e)
        {
            throw new EventBuildException(EventBuildError.BadJson, e.Message, e);
        }
        pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(contentHash) };
        pdu["signatures"] = new JsonObject();

        byte[] json;
        try
        {
            EventSigning.Sign(version, pdu, signingKey);
            json = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        }
        catch (CanonicalJsonException e)
        {
            throw new EventBuildException(EventBuildError.BadJson, e.Message, e);
        }
        if (json.Length > MaxEventBytes)
            throw new EventBuildException(EventBuildError.TooLarge,
                $"The event is {json.Length} bytes of canonical JSON; the limit is {MaxEventBytes}.");

        var eventId = EventHashing.ComputeEventId(version, pdu);
        return new BuiltEvent(eventId, json, Pdu.Parse(eventId, json));
    }

    private const string OpaqueIdAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /// <summary>Bare event IDs from v3 on; <c>[event_id, {"sha256": content hash}]</c> pairs in v1 and v2.</summary>
    private static JsonArray References(EventDraft draft, IReadOnlyList<EventId> ids)
    {
        if (!draft.RoomVersion.EventIdInEvent)
            return new JsonArray(ids.Select(id => (JsonNode)id.Value).ToArray());
        return new JsonArray(ids.Select(id => (JsonNode)new JsonArray(
            id.Value,
            new JsonObject
            {
                ["sha256"] = draft.ReferencedContentHashes.TryGetValue(id, out var hash)
                    ? hash
                    : throw Invalid($"The content hash of the referenced event {id} is not known."),
            })).ToArray());
    }

    private static void Validate(EventDraft draft)
    {
        if (string.IsNullOrEmpty(draft.Type))
            throw Invalid("The event type must not be empty.");
        if (Encoding.UTF8.GetByteCount(draft.Type) > MaxKeyBytes)
            throw Invalid($"The event type exceeds {MaxKeyBytes} bytes.");
        if (draft.StateKey is not null && Encoding.UTF8.GetByteCount(draft.StateKey) > MaxKeyBytes)
            throw Invalid($"The state key exceeds {MaxKeyBytes} bytes.");
        if (draft.PrevEvents.Count > MaxPrevEvents)
            throw Invalid($"An event may reference at most {MaxPrevEvents} previous events.");
        if (draft.AuthEvents.Count > MaxAuthEvents)
            throw Invalid($"An event may reference at most {MaxAuthEvents} auth events.");
        if (draft.Depth is < 0 or > CanonicalJson.MaxSafeInteger)
            throw Invalid("The depth must be between 0 and 2^53 - 1.");
        if (draft.OriginServerTs is < 0 or > CanonicalJson.MaxSafeInteger)
            throw Invalid("origin_server_ts must be between 0 and 2^53 - 1.");
        if (draft.Redacts is not null && draft.Type != EventTypes.Redaction)
            throw Invalid($"Only {EventTypes.Redaction} events name a redacted event.");
    }

    private static void SetRedacts(RoomVersion version, JsonObject pdu, JsonObject content, EventId? redacts)
    {
        if (!version.RedactsInContent)
        {
            pdu["redacts"] = redacts?.Value ?? throw Invalid("A redaction must name the event it redacts.");
            return;
        }

        var inContent = content["redacts"] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : null;
        if (content.ContainsKey("redacts") && !EventId.IsValid(inContent))
            throw Invalid("content.redacts must be an event ID.");
        if (redacts is not null && inContent is not null && inContent != redacts.Value)
            throw Invalid("content.redacts names a different event than the redaction target.");
        content["redacts"] = redacts?.Value ?? inContent ?? throw Invalid("A redaction must name the event it redacts.");
    }

    private static EventBuildException Invalid(string message) => new(EventBuildError.InvalidField, message);

    private static bool IsThirdPartyInvite(EventDraft draft) =>
        draft.Type == EventTypes.Member && draft.Content["membership"] is JsonValue membership
        && membership.GetValueKind() == JsonValueKind.String && membership.GetValue<string>() == Membership.Invite
        && draft.Content["third_party_invite"] is not null;
}
