namespace HomeServer.Storage;

/// <summary>
/// What push rules produce: notifications (written with their events, see <see cref="NewEvent.Notifications"/>),
/// how far each user has read, and the unread counts /sync reports. Push rules themselves are the users' global
/// account data of type <c>m.push_rules</c>; this store reads them for many users at once.
/// </summary>
public interface IPushStore
{
    /// <summary>The stored <c>m.push_rules</c> account data of those of <paramref name="userIds"/> who have any.</summary>
    Task<IReadOnlyList<AccountPushRules>> GetPushRulesAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);

    /// <summary>Every user's <c>m.push_rules</c> written after <paramref name="sincePosition"/> (account-data stream), ascending.</summary>
    Task<IReadOnlyList<AccountPushRules>> GetPushRuleChangesAsync(long sincePosition, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the user's read mark of the room (and thread: "" for unthreaded, "main", or a thread root) forward to
    /// <paramref name="roomPosition"/>; a mark already further stays.
    /// </summary>
    Task SetReadMarkAsync(string userId, string roomId, string threadId, long roomPosition, CancellationToken cancellationToken);

    /// <summary>
    /// The user's unread notification and highlight counts in the given rooms, per thread ("main" or a thread root),
    /// for threads with at least one unread notification. A notification is read once an unthreaded mark or the mark
    /// of its own thread has reached it.
    /// </summary>
    Task<IReadOnlyList<UnreadCount>> GetUnreadCountsAsync(string userId, IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="GetUnreadCountsAsync"/> with each room's newest room position, read in one statement: the counts are
    /// exactly those of the room's events up to that position, under the read marks of the same moment (a mark only
    /// ever reaches committed events), so a reader that sees the room's later events can add their notifications itself.
    /// One entry per given room that exists.
    /// </summary>
    Task<IReadOnlyList<RoomUnreadCounts>> GetUnreadCountsWithPositionsAsync(
        string userId, IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken);

    /// <summary>The user's notifications below <paramref name="beforeGlobalPosition"/> (null: from the newest), newest first.</summary>
    Task<IReadOnlyList<StoredNotification>> GetNotificationsAsync(
        string userId, long? beforeGlobalPosition, int limit, bool onlyHighlight, CancellationToken cancellationToken);
}

public sealed record AccountPushRules(string UserId, byte[] Content, long StreamPosition);

/// <summary>A notification for <paramref name="UserId"/> of the event it is attached to.</summary>
/// <param name="ThreadId">The thread root's event id, or "main".</param>
/// <param name="Actions">The actions of the matching rule as UTF-8 JSON (an array).</param>
public sealed record NewNotification(string UserId, string ThreadId, bool Highlight, byte[] Actions);

public sealed record UnreadCount(string RoomId, string ThreadId, long NotificationCount, long HighlightCount);

/// <param name="RoomPosition">The room's newest event when the counts were read.</param>
/// <param name="Counts">The threads with unread notifications (<see cref="UnreadCount"/>).</param>
public sealed record RoomUnreadCounts(string RoomId, long RoomPosition, IReadOnlyList<UnreadCount> Counts);

/// <param name="Read">Whether one of the user's read marks has reached the event.</param>
public sealed record StoredNotification(
    string RoomId, string EventId, long RoomPosition, long GlobalPosition, string ThreadId, bool Highlight, byte[] Actions, long Ts, bool Read);
