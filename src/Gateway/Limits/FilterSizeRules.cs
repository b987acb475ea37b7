using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Rooms;

namespace HomeServer.Gateway.Limits;

/// <summary>
/// Bounds the lists of a filter (<see cref="InputLimitsOptions.MaxFilterListItems"/> entries of at most
/// <see cref="InputLimitsOptions.MaxFilterStringBytes"/> bytes), so a stored or inline filter cannot make every sync
/// compare each event against thousands of entries; over the limit is 400 <c>M_INVALID_PARAM</c>.
/// </summary>
internal static class FilterSizeRules
{
    public static void Require(FilterDefinition filter, InputLimitsOptions limits)
    {
        RequireList("event_fields", filter.EventFields, limits);
        RequireEventFilter("presence", filter.Presence, limits);
        RequireEventFilter("account_data", filter.AccountData, limits);
        if (filter.Room is not { } room) return;
        RequireList("room.rooms", room.Rooms, limits);
        RequireList("room.not_rooms", room.NotRooms, limits);
        RequireEventFilter("room.ephemeral", room.Ephemeral, limits);
        RequireEventFilter("room.state", room.State, limits);
        RequireEventFilter("room.timeline", room.Timeline, limits);
        RequireEventFilter("room.account_data", room.AccountData, limits);
    }

    public static void Require(RoomEventFilterBody filter, InputLimitsOptions limits)
    {
        RequireList("types", filter.Types, limits);
        RequireList("not_types", filter.NotTypes, limits);
        RequireList("senders", filter.Senders, limits);
        RequireList("not_senders", filter.NotSenders, limits);
        RequireList("rooms", filter.Rooms, limits);
        RequireList("not_rooms", filter.NotRooms, limits);
    }

    private static void RequireEventFilter(string name, EventFilter? filter, InputLimitsOptions limits)
    {
        if (filter is null) return;
        RequireList($"{name}.types", filter.Types, limits);
        RequireList($"{name}.not_types", filter.NotTypes, limits);
        RequireList($"{name}.senders", filter.Senders, limits);
        RequireList($"{name}.not_senders", filter.NotSenders, limits);
        if (filter is Accounts.RoomEventFilter roomFilter)
        {
            RequireList($"{name}.rooms", roomFilter.Rooms, limits);
            RequireList($"{name}.not_rooms", roomFilter.NotRooms, limits);
        }
    }

    private static void RequireList(string name, IReadOnlyList<string>? list, InputLimitsOptions limits)
    {
        if (list is null) return;
        if (list.Count > limits.MaxFilterListItems)
            throw RoomPath.InvalidParam($"The filter's {name} has {list.Count} entries; at most {limits.MaxFilterListItems} are allowed.");
        if (list.Any(item => item is not null && System.Text.Encoding.UTF8.GetByteCount(item) > limits.MaxFilterStringBytes))
            throw RoomPath.InvalidParam($"Each entry of the filter's {name} must be at most {limits.MaxFilterStringBytes} bytes.");
    }
}
