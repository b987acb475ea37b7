using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>The rooms of one user (key: the full user id), as recorded in the rooms' current state.</summary>
[Alias("user-rooms")]
public interface IUserRoomsGrain : IGrainWithStringKey
{
    [Idempotent]
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetJoinedRoomsAsync();
}
