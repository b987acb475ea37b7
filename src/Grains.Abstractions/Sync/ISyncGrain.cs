using HomeServer.Runtime;

namespace HomeServer.Grains.Sync;

/// <summary>What changed for a user: something newer than the stream positions a parked /sync waits on.</summary>
public enum SyncNoticeKind
{
    RoomEvent,
    Membership,
    Typing,
    Receipt,
    AccountData,
}

/// <param name="RoomId">The room concerned, or null for account-wide changes.</param>
/// <param name="Position">The new position in the stream of <paramref name="Kind"/>.</param>
public sealed record SyncNotice(SyncNoticeKind Kind, string? RoomId, long Position);

/// <summary>One user's sync state (key: the full user id): answers /sync at once or parks it until something arrives.</summary>
[GrainType("sync")]
public interface ISyncGrain : IGrain
{
    /// <summary>Wakes parked requests; sent by rooms and by the user's own grain after they persisted a change.</summary>
    [AlwaysInterleave]
    Task NotifyAsync(SyncNotice notice);
}
