using HomeServer.Grains.Events;
using HomeServer.Runtime;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

public sealed class UserRoomsGrain(IHomeServerStore store) : Grain, IUserRoomsGrain
{
    public async Task<IReadOnlyList<string>> GetJoinedRoomsAsync() =>
        (await store.State.GetRoomsOfUserAsync(Key, [Membership.Join], CancellationToken.None)).Select(m => m.RoomId).ToList();
}
