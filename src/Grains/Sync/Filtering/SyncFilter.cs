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

/// <summary>The spec's event_format: events as clients see them, or as the room's PDUs.</summary>
public enum EventFormat
{
    Client,
    Federation,
}

/// <summary>A sync filter (the spec's Filter).</summary>
public sealed record SyncFilter
{
    public const int DefaultTimelineLimit = 10;

    /// <summary>The most timeline events per room any filter gets, so one request cannot ask for unbounded work.</summary>
    public const int MaxTimelineLimit = 100;

    public static readonly SyncFilter Default = new();

    public EventFilter AccountData { get; init; } = EventFilter.All;
    public EventFilter Presence { get; init; } = EventFilter.All;
    public RoomFilter Room { get; init; } = new();

    public EventFormat EventFormat { get; init; } = EventFormat.Client;

    /// <summary>Dot-separated paths of the event fields to include; null for all of them.</summary>
    public IReadOnlyList<string>? EventFields { get; init; }

    public int TimelineLimit => Math.Min(Room.Timeline.Limit ?? DefaultTimelineLimit, MaxTimelineLimit);
}
