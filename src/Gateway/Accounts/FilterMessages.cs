using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Accounts;

internal sealed record FilterResponse([property: JsonPropertyName("filter_id")] string FilterId);

/// <summary>The filter schema of the spec, read only to refuse filters of the wrong shape; the stored filter is the JSON as sent.</summary>
internal sealed class FilterDefinition
{
    [JsonPropertyName("event_fields")] public IReadOnlyList<string>? EventFields { get; init; }
    [JsonPropertyName("event_format")] public string? EventFormat { get; init; }
    [JsonPropertyName("presence")] public EventFilter? Presence { get; init; }
    [JsonPropertyName("account_data")] public EventFilter? AccountData { get; init; }
    [JsonPropertyName("room")] public RoomFilter? Room { get; init; }
}

internal class EventFilter
{
    [JsonPropertyName("limit")] public long? Limit { get; init; }
    [JsonPropertyName("not_senders")] public IReadOnlyList<string>? NotSenders { get; init; }
    [JsonPropertyName("not_types")] public IReadOnlyList<string>? NotTypes { get; init; }
    [JsonPropertyName("senders")] public IReadOnlyList<string>? Senders { get; init; }
    [JsonPropertyName("types")] public IReadOnlyList<string>? Types { get; init; }
}

internal sealed class RoomEventFilter : EventFilter
{
    [JsonPropertyName("unread_thread_notifications")] public bool? UnreadThreadNotifications { get; init; }
    [JsonPropertyName("lazy_load_members")] public bool? LazyLoadMembers { get; init; }
    [JsonPropertyName("include_redundant_members")] public bool? IncludeRedundantMembers { get; init; }
    [JsonPropertyName("not_rooms")] public IReadOnlyList<string>? NotRooms { get; init; }
    [JsonPropertyName("rooms")] public IReadOnlyList<string>? Rooms { get; init; }
    [JsonPropertyName("contains_url")] public bool? ContainsUrl { get; init; }
}

internal sealed class RoomFilter
{
    [JsonPropertyName("not_rooms")] public IReadOnlyList<string>? NotRooms { get; init; }
    [JsonPropertyName("rooms")] public IReadOnlyList<string>? Rooms { get; init; }
    [JsonPropertyName("ephemeral")] public RoomEventFilter? Ephemeral { get; init; }
    [JsonPropertyName("include_leave")] public bool? IncludeLeave { get; init; }
    [JsonPropertyName("state")] public RoomEventFilter? State { get; init; }
    [JsonPropertyName("timeline")] public RoomEventFilter? Timeline { get; init; }
    [JsonPropertyName("account_data")] public RoomEventFilter? AccountData { get; init; }
}
