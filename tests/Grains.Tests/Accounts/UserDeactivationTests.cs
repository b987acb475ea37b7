using HomeServer.Grains.Accounts;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.Accounts;

/// <summary>Deactivation is safe to repeat, and one interrupted after the account was marked is finished later.</summary>
public sealed class UserDeactivationTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly string Bob = Server.UserId("bob");
    private static readonly string[] InRoom = [Membership.Join, Membership.Invite, Membership.Knock];

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Deactivating_twice_leaves_the_rooms_once_and_keeps_the_account_erased(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var (joined, invited) = await RoomsOfAliceAsync(cluster);
        var alice = cluster.Grains.GetGrain<IUserGrain>(Alice);

        await alice.DeactivateAsync(erase: true);
        await alice.DeactivateAsync(erase: false);

        Assert.Empty(await store.Store.State.GetRoomsOfUserAsync(Alice, InRoom, CancellationToken.None));
        Assert.True((await store.Store.Accounts.GetAccountAsync(Alice, CancellationToken.None))!.Erased);
        Assert.True(await alice.IsDeactivatedAsync());
        Assert.Null(await alice.GetPasswordHashAsync());
        foreach (var roomId in new[] { joined, invited })
        {
            var leaves = (await store.Store.Events.GetRoomEventsAsync(roomId, 0, Direction.Forward, 100, CancellationToken.None))
                .Count(e => e.Type == EventTypes.Member && e.StateKey == Alice && e.Membership == Membership.Leave);
            Assert.Equal(1, leaves);
        }
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_deactivation_interrupted_after_the_mark_is_finished_by_the_next_activation(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        await RoomsOfAliceAsync(cluster);
        // What a deactivation leaves behind when its process dies right after marking the account.
        Assert.True(await store.Store.Accounts.DeactivateAsync(Alice, erase: false, CancellationToken.None));
        await cluster.DeactivateAsync(GrainId.Create("user", Alice));
        Assert.Equal(2, (await store.Store.State.GetRoomsOfUserAsync(Alice, InRoom, CancellationToken.None)).Count);

        Assert.True(await cluster.Grains.GetGrain<IUserGrain>(Alice).IsDeactivatedAsync());

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await store.Store.State.GetRoomsOfUserAsync(Alice, InRoom, CancellationToken.None)).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The rooms were not left after the user grain activated again.");
            await Task.Delay(50);
        }
    }

    /// <summary>Registers alice, joined to one room of bob's and invited to another; returns both room ids.</summary>
    private static async Task<(string Joined, string Invited)> RoomsOfAliceAsync(GrainTestCluster cluster)
    {
        await cluster.Grains.GetGrain<IUserGrain>(Alice).RegisterAsync(new AccountRegistration("$hash", IsAdmin: false, DisplayName: null, Login: null));
        var joined = cluster.Grains.GetGrain<IRoomGrain>("!joined:test");
        await joined.CreateAsync(new CreateRoomRequest(Bob) { Preset = "public_chat" });
        await joined.JoinAsync(Alice, null);
        var invited = cluster.Grains.GetGrain<IRoomGrain>("!invited:test");
        await invited.CreateAsync(new CreateRoomRequest(Bob) { Preset = "private_chat" });
        await invited.InviteAsync(new MembershipRequest(Bob, Alice, null));
        return ("!joined:test", "!invited:test");
    }
}
