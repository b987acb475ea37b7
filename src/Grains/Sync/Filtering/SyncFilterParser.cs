using System.Text.Json;

namespace HomeServer.Grains.Sync.Filtering;

/// <summary>
/// Reads a filter JSON object. Malformed JSON is refused with M_NOT_JSON, a property of the wrong type (or a limit
/// that is not a non-negative integer) with M_BAD_JSON. Unknown properties are ignored.
/// </summary>
public static class SyncFilterParser
{
    public static SyncFilter Parse(ReadOnlySpan<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException)
        {
            throw new MatrixRequestException("M_NOT_JSON", "The filter is not valid JSON.");
        }
        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    public static SyncFilter Parse(JsonElement root)
    {
        RequireObject(root, "filter");
        return new SyncFilter
        {
            AccountData = Optional(root, "account_data", e => ReadEventFilter(e, "account_data")) ?? EventFilter.All,
            Presence = Optional(root, "presence", e => ReadEventFilter(e, "presence")) ?? EventFilter.All,
            Room = Optional(root, "room", ReadRoomFilter) ?? new RoomFilter(),
            EventFormat = EventFormat(root),
            EventFields = StringList(root, "event_fields", "filter"),
        };
    }

    private static RoomFilter ReadRoomFilter(JsonElement room)
    {
        RequireObject(room, "room");
        return new RoomFilter
        {
            Rooms = StringList(room, "rooms", "room"),
            NotRooms = StringList(room, "not_rooms", "room"),
            IncludeLeave = Boolean(room, "include_leave", "room") ?? false,
            Timeline = Optional(room, "timeline", e => ReadRoomEventFilter(e, "room.timeline")) ?? RoomEventFilter.All,
            State = Optional(room, "state", e => ReadRoomEventFilter(e, "room.state")) ?? RoomEventFilter.All,
            Ephemeral = Optional(room, "ephemeral", e => ReadRoomEventFilter(e, "room.ephemeral")) ?? RoomEventFilter.All,
            AccountData = Optional(room, "account_data", e => ReadRoomEventFilter(e, "room.account_data")) ?? RoomEventFilter.All,
        };
    }

    private static EventFilter ReadEventFilter(JsonElement filter, string path)
    {
        RequireObject(filter, path);
        return new EventFilter
        {
            Limit = Limit(filter, path),
            Types = StringList(filter, "types", path),
            NotTypes = StringList(filter, "not_types", path),
            Senders = StringList(filter, "senders", path),
            NotSenders = StringList(filter, "not_senders", path),
        };
    }

    private static RoomEventFilter ReadRoomEventFilter(JsonElement filter, string path)
    {
        var common = ReadEventFilter(filter, path);
        return new RoomEventFilter
        {
            Limit = common.Limit,
            Types = common.Types,
            NotTypes = common.NotTypes,
            Senders = common.Senders,
            NotSenders = common.NotSenders,
            Rooms = StringList(filter, "rooms", path),
            NotRooms = StringList(filter, "not_rooms", path),
            ContainsUrl = Boolean(filter, "contains_url", path),
            LazyLoadMembers = Boolean(filter, "lazy_load_members", path) ?? false,
            IncludeRedundantMembers = Boolean(filter, "include_redundant_members", path) ?? false,
            UnreadThreadNotifications = Boolean(filter, "unread_thread_notifications", path) ?? false,
        };
    }

    private static T? Optional<T>(JsonElement parent, string name, Func<JsonElement, T> read) where T : class =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? read(value) : null;

    private static int? Limit(JsonElement filter, string path)
    {
        if (!filter.TryGetProperty("limit", out var limit) || limit.ValueKind == JsonValueKind.Null) return null;
        // The spec asks for a limit above 0, but Synapse takes 0, and clients send it for a timeline without events
        // (a timeline limit of 0 leaves every event out, limited when there were some).
        if (limit.ValueKind != JsonValueKind.Number || !limit.TryGetInt64(out var value) || value < 0)
            throw BadJson($"{path}.limit must be a non-negative integer.");
        return (int)Math.Min(value, int.MaxValue);
    }

    private static EventFormat EventFormat(JsonElement root)
    {
        if (!root.TryGetProperty("event_format", out var value) || value.ValueKind == JsonValueKind.Null) return Filtering.EventFormat.Client;
        return value.ValueKind == JsonValueKind.String ? value.GetString() switch
        {
            "client" => Filtering.EventFormat.Client,
            "federation" => Filtering.EventFormat.Federation,
            _ => throw BadJson("event_format must be client or federation."),
        } : throw BadJson("event_format must be client or federation.");
    }

    private static bool? Boolean(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw BadJson($"{path}.{name} must be a boolean."),
        };
    }

    private static IReadOnlyList<string>? StringList(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array) throw BadJson($"{path}.{name} must be an array of strings.");
        var list = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw BadJson($"{path}.{name} must be an array of strings.");
            list.Add(item.GetString()!);
        }
        return list;
    }

    private static void RequireObject(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object) throw BadJson($"{path} must be a JSON object.");
    }

    private static MatrixRequestException BadJson(string message) => MatrixRequestException.BadJson(message);
}
