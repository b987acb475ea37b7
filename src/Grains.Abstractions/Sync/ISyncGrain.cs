using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Sync;

/// <summary>What changed for a user: something newer than the stream positions a parked /sync waits on.</summary>
[GenerateSerializer, Alias("hs.SyncNoticeKind")]
public enum SyncNoticeKind
{
    RoomEvent,
    Membership,
    Typing,
    Receipt,
    AccountData,
    Presence,

    /// <summary>A device list or cross-signing key of the user or of someone sharing a room with the user changed.</summary>
    DeviceList,

    /// <summary>A to-device message arrived for one of the user's devices (position: the to-device stream's).</summary>
    ToDevice,

    /// <summary>One of the user's devices' one-time or fallback keys were uploaded or claimed.</summary>
    OneTimeKeys,
}

/// <param name="RoomId">The room concerned, or null for account-wide changes.</param>
/// <param name="Position">The new position in the stream of <paramref name="Kind"/>.</param>
[GenerateSerializer, Alias("hs.SyncNotice")]
public sealed record SyncNotice(SyncNoticeKind Kind, string? RoomId, long Position);

/// <summary>The query of one GET /sync, as the client sent it (the grain validates since and filter).</summary>
/// <param name="DeviceId">The requesting device (transaction ids are echoed to it only).</param>
/// <param name="Since">The next_batch of an earlier response, or null for an initial sync.</param>
/// <param name="Filter">A filter id or inline filter JSON (starts with '{'), or null for the default filter.</param>
/// <param name="Timeout">How long to wait for something new before answering with an empty response.</param>
[GenerateSerializer, Alias("hs.SyncRequest")]
public sealed record SyncRequest(string DeviceId, string? Since, string? Filter, bool FullState, TimeSpan Timeout) : ILongPollRequest
{
    /// <summary>Longest long-poll wait; longer client timeouts are shortened to this.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// For the legacy /initialSync and /events, which have no to_device section: the response neither carries nor
    /// acknowledges to-device messages, and its token keeps the since token's to-device position, so a message is
    /// never counted as delivered by a response that dropped it (Synapse's /events sends none either).
    /// </summary>
    [Id(5)]
    public bool WithoutToDevice { get; init; }
}

/// <summary>A finished /sync response.</summary>
/// <param name="Body">The complete response body, UTF-8 JSON, written to the client unchanged, segment after segment.</param>
/// <param name="NextBatch">The response's next_batch (also inside <paramref name="Body"/>).</param>
/// <param name="IsEmpty">True when nothing new was found before the timeout: the caller may wait again from <paramref name="NextBatch"/>.</param>
[GenerateSerializer, Immutable, Alias("hs.SyncResponse")]
public sealed record SyncResponse(SegmentedJson Body, string NextBatch, bool IsEmpty)
{
    /// <summary>
    /// The empty answer to a long-poll that a newer request of the same device replaced: the caller must not wait
    /// again on behalf of it, or the two would keep superseding each other.
    /// </summary>
    [Id(3)]
    public bool Superseded { get; init; }
}

/// <summary>One user's sync state (key: the full user id): answers /sync at once or parks it until something arrives.</summary>
[Alias("sync")]
public interface ISyncGrain : IGrainWithStringKey
{
    /// <summary>Wakes parked requests; sent by rooms and by the user's own grain after they persisted a change.</summary>
    [AlwaysInterleave]
    Task NotifyAsync(SyncNotice notice);

    /// <summary>New events of one of the user's rooms, shared with the room's other readers; sent by the silo's room feed hub.</summary>
    [AlwaysInterleave]
    Task ReceiveAsync(RoomFeedEvents events);

    /// <summary>
    /// Answers at once when something is newer than <see cref="SyncRequest.Since"/> (or for an initial or full-state
    /// sync), otherwise waits up to <see cref="SyncRequest.Timeout"/> for a notice. Refuses a malformed since token,
    /// filter or unknown filter id with a <see cref="MatrixRequestException"/>.
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<SyncResponse> SyncAsync(SyncRequest request, CancellationToken cancellationToken);
}
