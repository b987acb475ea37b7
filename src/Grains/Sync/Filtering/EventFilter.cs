namespace HomeServer.Grains.Sync.Filtering;

/// <summary>The spec's EventFilter: which event types and senders to include, and how many events.</summary>
public record EventFilter
{
    public static readonly EventFilter All = new();

    public int? Limit { get; init; }
    public IReadOnlyList<string>? Types { get; init; }
    public IReadOnlyList<string>? NotTypes { get; init; }
    public IReadOnlyList<string>? Senders { get; init; }
    public IReadOnlyList<string>? NotSenders { get; init; }

    /// <summary>True when an event of this type from this sender passes (the not_ lists win over the include lists).</summary>
    public bool Matches(string type, string? sender)
    {
        if (NotTypes is not null && NotTypes.Any(pattern => TypePattern.Matches(pattern, type))) return false;
        if (Types is not null && !Types.Any(pattern => TypePattern.Matches(pattern, type))) return false;
        if (sender is not null)
        {
            if (NotSenders is not null && NotSenders.Contains(sender, StringComparer.Ordinal)) return false;
            if (Senders is not null && !Senders.Contains(sender, StringComparer.Ordinal)) return false;
        }
        return true;
    }
}

/// <summary>The spec's RoomEventFilter: an <see cref="EventFilter"/> with room lists, contains_url and lazy-loading.</summary>
public sealed record RoomEventFilter : EventFilter
{
    public static readonly new RoomEventFilter All = new();

    public IReadOnlyList<string>? Rooms { get; init; }
    public IReadOnlyList<string>? NotRooms { get; init; }
    public bool? ContainsUrl { get; init; }
    public bool LazyLoadMembers { get; init; }
    public bool IncludeRedundantMembers { get; init; }

    /// <summary>Whether unread counts are split by thread (<c>unread_thread_notifications</c>).</summary>
    public bool UnreadThreadNotifications { get; init; }

    public bool MatchesRoom(string roomId) => RoomLists.Matches(Rooms, NotRooms, roomId);

    /// <param name="hasUrl">Whether the event's content has a <c>url</c> key (only asked when contains_url is set).</param>
    public bool Matches(string roomId, string type, string? sender, Func<bool> hasUrl) =>
        MatchesRoom(roomId) && Matches(type, sender) && (ContainsUrl is not { } wanted || hasUrl() == wanted);
}

internal static class RoomLists
{
    public static bool Matches(IReadOnlyList<string>? rooms, IReadOnlyList<string>? notRooms, string roomId) =>
        (notRooms is null || !notRooms.Contains(roomId, StringComparer.Ordinal))
        && (rooms is null || rooms.Contains(roomId, StringComparer.Ordinal));
}

/// <summary>Event type patterns of filters, where <c>*</c> matches any sequence of characters.</summary>
internal static class TypePattern
{
    public static bool Matches(string pattern, string type)
    {
        if (!pattern.Contains('*')) return pattern == type;
        var pieces = pattern.Split('*');
        if (!type.StartsWith(pieces[0], StringComparison.Ordinal)) return false;
        var at = pieces[0].Length;
        for (var i = 1; i < pieces.Length - 1; i++)
        {
            var found = type.IndexOf(pieces[i], at, StringComparison.Ordinal);
            if (found < 0) return false;
            at = found + pieces[i].Length;
        }
        var last = pieces[^1];
        return type.Length - at >= last.Length && type.EndsWith(last, StringComparison.Ordinal);
    }
}
