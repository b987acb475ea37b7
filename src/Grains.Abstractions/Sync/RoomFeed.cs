using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Sync;

/// <summary>
/// One room event in the client format of /sync, serialised once by its room and shared by every reader. Only the
/// parts that differ per reader (<c>unsigned.age</c>, and <c>unsigned.transaction_id</c> for the sending device) are
/// left to be written per response.
/// </summary>
/// <param name="Body">The event's client-format properties as an unterminated JSON object (<c>{"event_id":…,…</c>, no
/// closing brace and no <c>unsigned</c>).</param>
/// <param name="UnsignedRest">The stored unsigned properties shown to clients, comma-separated without braces (may be empty).</param>
/// <param name="TransactionDeviceId">The device that sent the event, when it came from a client send.</param>
/// <param name="TransactionId">That device's transaction id.</param>
/// <param name="ContentHasUrl">Whether <c>content.url</c> exists (filters can ask for it).</param>
/// <param name="Notifications">Who got a notification of the event, stored with it; null when not known (a reader must
/// then ask the store for its counts).</param>
/// <param name="ResolvesOtherState">Whether state resolution changed other slots of the room's state with this event
/// (docs/adr/0041): a reader must then show their current events, which only the store path does.</param>
[GenerateSerializer, Immutable, Alias("hs.SharedEvent")]
public sealed record SharedEvent(
    string EventId,
    long RoomPosition,
    long GlobalPosition,
    string Type,
    string? StateKey,
    string Sender,
    long OriginServerTs,
    bool ContentHasUrl,
    byte[] Body,
    byte[] UnsignedRest,
    string? TransactionDeviceId,
    string? TransactionId,
    SharedEventNotifications? Notifications = null,
    bool ResolvesOtherState = false);

/// <summary>
/// The notifications the room stored with one shared event (docs/adr/0029): a sync grain adds them to the unread counts
/// it read from the store, instead of reading the counts again for every response.
/// </summary>
/// <param name="ThreadId">The event's thread: its thread root, or "main" (the same for every recipient).</param>
/// <param name="Notified">The users notified, sorted ordinally.</param>
/// <param name="Highlighted">Those of them whose notification highlights, sorted ordinally.</param>
[GenerateSerializer, Immutable, Alias("hs.SharedEventNotifications")]
public sealed record SharedEventNotifications(string ThreadId, string[] Notified, string[] Highlighted)
{
    public static readonly SharedEventNotifications None = new("main", [], []);

    public bool Notifies(string userId) => Array.BinarySearch(Notified, userId, StringComparer.Ordinal) >= 0;

    public bool Highlights(string userId) => Array.BinarySearch(Highlighted, userId, StringComparer.Ordinal) >= 0;
}

/// <summary>Events one room committed in one batch, in room order, as every reader receives them.</summary>
/// <param name="PreviousRoomPosition">The room position just before the first event, so a reader can tell when a batch is missing.</param>
[GenerateSerializer, Immutable, Alias("hs.RoomFeedEvents")]
public sealed record RoomFeedEvents(string RoomId, long PreviousRoomPosition, IReadOnlyList<SharedEvent> Events);

/// <summary>
/// The room feed hub of one silo (key: the silo's address, and it is placed on that silo only): rooms send every
/// active silo's hub one message per committed batch (or room-wide notice) with their local members, and it hands the
/// same events to those members whose sync grain is active on its silo.
/// </summary>
[Alias("room-feed-hub")]
public interface IRoomFeedHubGrain : IGrainWithStringKey
{
    /// <summary>Hands <paramref name="events"/> to the active sync grains of <paramref name="userIds"/> on this silo; inactive ones are not woken.</summary>
    [AlwaysInterleave]
    Task DeliverAsync(RoomFeedEvents events, IReadOnlyList<string> userIds);

    /// <summary>Passes a room-wide notice (typing, receipts) to the active sync grains of <paramref name="userIds"/> on this silo.</summary>
    [AlwaysInterleave]
    Task NotifyAsync(SyncNotice notice, IReadOnlyList<string> userIds);
}
