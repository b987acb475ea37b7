namespace HomeServer.Grains.Sync.Filtering;

/// <summary>The spec's RoomFilter.</summary>
public sealed record RoomFilter
{
    public IReadOnlyList<string>? Rooms { get; init; }
    public IReadOnlyList<string>? NotRooms { get; init; }
    public bool IncludeLeave { get; init; }
    public RoomEventFilter Timeline { get; init; } = RoomEventFilter.All;
    public RoomEventFilter State { get; init; } = RoomEventFilter.All;
    public RoomEventFilter Ephemeral { get; init; } = RoomEventFilter.All;
    public RoomEventFilter AccountData { get; init; } = RoomEventFilter.All;

    /// <summary>rooms / not_rooms of the room filter, applied before every per-section filter.</summary>
    public bool MatchesRoom(string roomId) => RoomLists.Matches(Rooms, NotRooms, roomId);
}

/// <summary>A sync filter (the spec's Filter). event_fields and event_format are accepted and not applied.</summary>
public sealed record SyncFilter
{
    public const int DefaultTimelineLimit = 10;

    /// <summary>The most timeline events per room any filter gets, so one request cannot ask for unbounded work.</summary>
    public const int MaxTimelineLimit = 100;

    public static readonly SyncFilter Default = new();

    public EventFilter AccountData { get; init; } = EventFilter.All;
    public EventFilter Presence { get; init; } = EventFilter.All;
    public RoomFilter Room { get; init; } = new();

    public int TimelineLimit => Math.Min(Room.Timeline.Limit ?? DefaultTimelineLimit, MaxTimelineLimit);
}
