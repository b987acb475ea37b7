using HomeServer.Grains.Events;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Rooms;

[GrainType("user-rooms")]
public sealed class UserRoomsGrain(IHomeServerStore store) : HomeServerGrain, IUserRoomsGrain
{
    public async Task<IReadOnlyList<string>> GetJoinedRoomsAsync() =>
        (await store.State.GetRoomsOfUserAsync(Key, [Membership.Join], CancellationToken.None)).Select(m => m.RoomId).ToList();
}
