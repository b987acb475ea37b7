using HomeServer.Grains.Accounts;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Runtime.Invocation;

namespace HomeServer.Grains;

public static class HomeServerGrains
{
    /// <summary>Registers every grain class of the homeserver with a silo.</summary>
    public static GrainTypeRegistry AddHomeServerGrains(this GrainTypeRegistry registry) =>
        registry.AddGrain<IUserGrain, UserGrain>()
            .AddGrain<IAuthSessionGrain, AuthSessionGrain>()
            .AddGrain<IRoomGrain, RoomGrain>()
            .AddGrain<IRoomDirectoryGrain, RoomDirectoryGrain>()
            .AddGrain<IUserRoomsGrain, UserRoomsGrain>()
            .AddGrain<ISyncGrain, SyncGrain>()
            .AddGrain<IRoomFeedHubGrain, RoomFeedHubGrain>();
}
