using System.Text.Json;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Serialization;

namespace HomeServer.Grains.Events;

/// <summary>
/// A read-only view of a persisted event (PDU) and its ID, with typed access to the fields the
/// authorization rules read. The JSON is that of the federation format: from room version 3 on it has no
/// <c>event_id</c>, and in v1 and v2 its <c>prev_events</c> and <c>auth_events</c> are <c>[id, hashes]</c> pairs.
/// </summary>
public sealed class Pdu
{
    public Pdu(EventId eventId, JsonElement json)
    {
        EventId = eventId;
        Json = json.ValueKind == JsonValueKind.Object ? json.Clone() : throw Invalid("an event must be a JSON object");
        Type = RequiredString("type");
        RoomId = RoomId.TryParse(RequiredString("room_id"), out var roomId) ? roomId : throw Invalid("room_id is not a room ID");
        Sender = UserId.TryParse(RequiredString("sender"), out var sender) ? sender : throw Invalid("sender is not a user ID");
        Content = Json.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object
            ? content
            : throw Invalid("content must be an object");
        if (Json.TryGetProperty("state_key", out var stateKey))
            StateKey = stateKey.ValueKind == JsonValueKind.String ? stateKey.GetString() : throw Invalid("state_key must be a string");
        PrevEvents = StringArray("prev_events");
        AuthEvents = StringArray("auth_events");
    }

    public EventId EventId { get; }

    public JsonElement Json { get; }

    public string Type { get; }

    public RoomId RoomId { get; }

    public UserId Sender { get; }

    /// <summary>Present (possibly empty) for state events, null for message events.</summary>
    public string? StateKey { get; }

    public bool IsState => StateKey is not null;

    public JsonElement Content { get; }

    public IReadOnlyList<string> PrevEvents { get; }

    public IReadOnlyList<string> AuthEvents { get; }

    /// <summary><c>hashes.sha256</c>, which room versions 1 and 2 cite beside the ID of a referenced event.</summary>
    public string? ContentHash =>
        Json.TryGetProperty("hashes", out var hashes) && hashes.ValueKind == JsonValueKind.Object
        && hashes.TryGetProperty("sha256", out var sha256) && sha256.ValueKind == JsonValueKind.String
            ? sha256.GetString()
            : null;

    public static Pdu Parse(EventId eventId, ReadOnlySpan<byte> utf8Json)
    {
        JsonElement json;
        try
        {
            json = JsonElement.Parse(utf8Json, StoredJson.DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"Event {eventId} is not valid JSON: {e.Message}", e);
        }
        return new Pdu(eventId, json);
    }

    /// <summary>The string value of a top-level content key, or null when absent or not a string.</summary>
    public string? GetContentString(string key) =>
        Content.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public override string ToString() => $"{EventId} ({Type})";

    private string RequiredString(string key) =>
        Json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Invalid($"{key} must be a string");

    private IReadOnlyList<string> StringArray(string key)
    {
        if (!Json.TryGetProperty(key, out var value))
            return [];
        if (value.ValueKind != JsonValueKind.Array)
            throw Invalid($"{key} must be an array of event IDs");
        return value.EnumerateArray().Select(item => item.ValueKind switch
            {
                JsonValueKind.String => item.GetString()!,
                // v1/v2: [event_id, {"sha256": ...}]
                JsonValueKind.Array when item.GetArrayLength() == 2 && item[0].ValueKind == JsonValueKind.String => item[0].GetString()!,
                _ => throw Invalid($"{key} must be an array of event IDs"),
            }).ToList();
    }

    private FormatException Invalid(string reason) => new($"Event {EventId} is malformed: {reason}.");
}
