using HomeServer.Runtime;

namespace HomeServer.Grains.Rooms;

/// <summary>The users typing in a room now. <paramref name="Serial"/> increases with every change, also across activations.</summary>
public sealed record TypingState(long Serial, IReadOnlyList<string> UserIds);

/// <summary>
/// One room (key: the room id): owns its timeline order and current state, authorises and persists each event,
/// then tells the sync grains of the users concerned.
/// </summary>
[GrainType("room")]
public interface IRoomGrain : IGrain
{
    /// <summary>Re-sends the member event of a joined user with a new display name and avatar (after a profile change).</summary>
    Task UpdateMemberProfileAsync(string userId, string? displayName, string? avatarUrl);

    [Idempotent]
    [AlwaysInterleave]
    Task<TypingState> GetTypingAsync();
}
