using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Presence;

/// <summary>The presence values of the spec's m.presence event.</summary>
public static class PresenceStates
{
    public const string Online = "online";
    public const string Unavailable = "unavailable";
    public const string Offline = "offline";

    /// <summary>The longest status message kept (the store's limit, StoreLimits.MaxStatusMessageBytes).</summary>
    public const int MaxStatusMessageBytes = 4_096;

    public static bool IsValid(string? value) => value is Online or Unavailable or Offline;
}

/// <summary>A user's presence as the spec's GET /presence/{userId}/status describes it, at the time it was read.</summary>
/// <param name="LastActiveTs">When the user was last active, in ms since the epoch; 0 when never.</param>
[GenerateSerializer, Immutable, Alias("hs.PresenceStatus")]
public sealed record PresenceStatus(string Presence, string? StatusMessage, long LastActiveTs, bool CurrentlyActive);

/// <summary>One user's presence (key: the full user id). Changes are persisted and reach the /sync of users sharing a room.</summary>
[Alias("presence")]
public interface IPresenceGrain : IGrainWithStringKey
{
    /// <summary>
    /// The presence as <paramref name="viewerUserId"/> may see it: the user's own, or another's when the two share a
    /// joined room (else <see cref="MatrixRequestException"/> M_FORBIDDEN, as Synapse answers).
    /// </summary>
    [Idempotent]
    [AlwaysInterleave]
    Task<PresenceStatus> GetAsync(string viewerUserId);

    /// <summary>PUT /presence/{userId}/status: the presence and the status message (null clears it), as the user set them.</summary>
    [Idempotent]
    Task SetAsync(string presence, string? statusMessage);

    /// <summary>
    /// A /sync of the user with its <c>set_presence</c>: online (the default) or unavailable sets the presence and keeps
    /// the status message; online also marks the user active now. Offline leaves the presence alone.
    /// </summary>
    [Idempotent]
    Task SyncingAsync(string presence);

    /// <summary>
    /// The presence of a user of <paramref name="origin"/> as an <c>m.presence</c> EDU of that server tells it: kept
    /// and told to the local users sharing a room with them; ignored for a user of another server, one who shares no
    /// room with a local user, or an invalid presence (docs/adr/0045).
    /// </summary>
    Task ReceiveFromServerAsync(string origin, string presence, string? statusMessage, long lastActiveTs);
}
