using System.Text.RegularExpressions;

namespace HomeServer.Storage;

/// <summary>
/// Full-text search over the text of room events (content.body of m.room.message, content.name of m.room.name,
/// content.topic of m.room.topic), indexed as events are appended and removed when they are redacted; and the other
/// look-ups by content or time that clients use to find their way: users by name, events by timestamp.
/// </summary>
public interface IEventSearchStore
{
    /// <summary>
    /// Up to <see cref="EventSearchQuery.Limit"/> matching events of the given rooms, best first (rank, then newer) or
    /// newest first, strictly after <see cref="EventSearchQuery.After"/> in that order. Visibility is the caller's.
    /// </summary>
    Task<IReadOnlyList<EventSearchHit>> SearchAsync(EventSearchQuery query, CancellationToken cancellationToken);

    /// <summary>How many events of the rooms match, whoever may see them.</summary>
    Task<long> CountAsync(EventSearchQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> events of the room at or after (Forward, ascending by timestamp) or at or before
    /// (Backward, descending) <paramref name="timestamp"/>, skipping the first <paramref name="skip"/>.
    /// </summary>
    Task<IReadOnlyList<StoredEvent>> GetEventsByTimestampAsync(
        string roomId, long timestamp, Direction direction, int skip, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Active accounts joined to a room the searcher is joined to, or to a room that is published, has the join rule
    /// <c>public</c> or the history visibility <c>world_readable</c>, whose user id or display name contains the term
    /// (case-insensitively), ordered by user id; at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<DirectoryUser>> SearchUsersAsync(string searcherId, string term, int limit, CancellationToken cancellationToken);
}

public enum EventSearchOrder
{
    Rank,
    Recent,
}

/// <summary>The position of the last hit of a page: the next page starts after it.</summary>
public sealed record EventSearchCursor(double Rank, long GlobalPosition);

/// <param name="Term">Words to find; on PostgreSQL with websearch syntax, on SQLite every word (a prefix of none).</param>
/// <param name="Keys">Any of content.body, content.name, content.topic.</param>
public sealed record EventSearchQuery(
    string Term,
    IReadOnlyCollection<string> RoomIds,
    IReadOnlyCollection<string> Keys,
    EventSearchOrder Order,
    EventSearchCursor? After,
    int Limit);

/// <param name="Rank">Higher is a closer match.</param>
public sealed record EventSearchHit(string RoomId, string EventId, long RoomPosition, long GlobalPosition, double Rank);

public sealed record DirectoryUser(string UserId, string? DisplayName, string? AvatarUrl);

/// <summary>The keys of event content that are searched, and which event type carries each.</summary>
public static class EventSearchKeys
{
    public const string Body = "content.body";
    public const string Name = "content.name";
    public const string Topic = "content.topic";

    public static IReadOnlyList<string> All { get; } = [Body, Name, Topic];

    /// <summary>The searchable key of an event of this type and state key, or null when it has none.</summary>
    public static string? Of(string type, string? stateKey) => (type, stateKey) switch
    {
        ("m.room.message", null) => Body,
        ("m.room.name", "") => Name,
        ("m.room.topic", "") => Topic,
        _ => null,
    };
}

/// <summary>The words of a search term: runs of letters, digits and underscores.</summary>
public static partial class SearchTerms
{
    [GeneratedRegex(@"[\p{L}\p{N}_]+")]
    private static partial Regex Word();

    public static IReadOnlyList<string> Words(string term) => Word().Matches(term).Select(m => m.Value).ToList();
}
