using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Outbound federation's durable cursor per destination and the windows of room events owed to it.</summary>
public abstract class FederationDestinationStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string Remote = "remote.example";

    [Fact]
    public async Task A_new_destination_starts_acknowledged_at_the_join_and_survives_reopening()
    {
        Assert.Null(await Store.FederationDestinations.GetAsync(Remote, Ct));

        Assert.True(await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 40, Ct));
        await Store.FederationDestinations.SetAckedAsync(Remote, 45, Ct);
        await Store.FederationDestinations.SetFailingSinceAsync(Remote, 1_000, Ct);
        await ReopenAsync();

        var record = await Store.FederationDestinations.GetAsync(Remote, Ct);
        Assert.NotNull(record);
        Assert.Equal((45L, (long?)1_000), (record.AckedPosition, record.FailingSinceTs));
        Assert.Equal([new FederationRoomWindow(RoomA, 40, null)], record.Rooms);
        Assert.Equal([Remote], await Store.FederationDestinations.ListAsync(Ct));
    }

    [Fact]
    public async Task An_open_window_is_kept_and_a_later_room_moves_the_acknowledged_position_back_to_its_join()
    {
        await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 10, Ct);
        await Store.FederationDestinations.SetAckedAsync(Remote, 30, Ct);

        Assert.False(await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 20, Ct));
        Assert.True(await Store.FederationDestinations.OpenRoomAsync(Remote, RoomB, 25, Ct));

        var record = (await Store.FederationDestinations.GetAsync(Remote, Ct))!;
        Assert.Equal(25, record.AckedPosition);
        Assert.Equal([new FederationRoomWindow(RoomA, 10, null), new FederationRoomWindow(RoomB, 25, null)], record.Rooms);
    }

    [Fact]
    public async Task A_closed_window_is_forgotten_once_acknowledged_past_its_end_and_a_rejoin_opens_it_again()
    {
        await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 10, Ct);
        await Store.FederationDestinations.CloseRoomAsync(Remote, RoomA, 20, Ct);
        await Store.FederationDestinations.SetAckedAsync(Remote, 19, Ct);
        Assert.Equal([new FederationRoomWindow(RoomA, 10, 20)], (await Store.FederationDestinations.GetAsync(Remote, Ct))!.Rooms);

        await Store.FederationDestinations.SetAckedAsync(Remote, 20, Ct);
        Assert.Empty((await Store.FederationDestinations.GetAsync(Remote, Ct))!.Rooms);

        Assert.True(await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 50, Ct));
        Assert.Equal([new FederationRoomWindow(RoomA, 50, null)], (await Store.FederationDestinations.GetAsync(Remote, Ct))!.Rooms);
    }

    [Fact]
    public async Task The_acknowledged_position_never_moves_back()
    {
        await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 10, Ct);
        await Store.FederationDestinations.SetAckedAsync(Remote, 30, Ct);
        await Store.FederationDestinations.SetAckedAsync(Remote, 20, Ct);
        await Store.FederationDestinations.SetFailingSinceAsync(Remote, null, Ct);

        var record = (await Store.FederationDestinations.GetAsync(Remote, Ct))!;
        Assert.Equal((30L, (long?)null), (record.AckedPosition, record.FailingSinceTs));
    }
}
