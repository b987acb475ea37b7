using HomeServer.Runtime;

namespace HomeServer.Grains.Rooms;

/// <summary>The rooms of one user (key: the full user id), as recorded in the rooms' current state.</summary>
[GrainType("user-rooms")]
public interface IUserRoomsGrain : IGrain
{
    [Idempotent]
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetJoinedRoomsAsync();
}
