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

    [Fact]
    public async Task The_newest_owed_event_of_each_room_stays_inside_its_window_and_the_range()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
        await CreateRoomAsync(RoomC);
        var a = await AppendMessagesAsync(RoomA, "a", 3);
        var b = await AppendMessagesAsync(RoomB, "b", 3);
        await AppendMessagesAsync(RoomC, "c", 3);
        var a2 = await AppendMessagesAsync(RoomA, "d", 2);
        var upTo = await Store.Events.GetMaxGlobalPositionAsync(Ct);
        await AppendMessagesAsync(RoomA, "later", 1);
        // A owed from its start; B only up to the leave at $b2; C not owed to this destination.
        await Store.FederationDestinations.OpenRoomAsync(Remote, RoomA, 0, Ct);
        await Store.FederationDestinations.OpenRoomAsync(Remote, RoomB, 0, Ct);
        await Store.FederationDestinations.CloseRoomAsync(Remote, RoomB, b[1].GlobalPosition, Ct);

        var newest = await Store.FederationDestinations.GetNewestOwedEventsAsync(Remote, 0, upTo, "", 10, Ct);
        Assert.Equal(["$d2", "$b2"], newest.Select(e => e.EventId));
        Assert.Equal(6, await Store.FederationDestinations.CountOwedEventsAsync(Remote, a[0].GlobalPosition, upTo, 100, Ct));
        Assert.Equal(3, await Store.FederationDestinations.CountOwedEventsAsync(Remote, a[0].GlobalPosition, upTo, 3, Ct));

        // Above the leave, B owes nothing; pages continue after the last room id.
        Assert.Equal(["$d2"], (await Store.FederationDestinations.GetNewestOwedEventsAsync(Remote, b[1].GlobalPosition, upTo, "", 10, Ct)).Select(e => e.EventId));
        Assert.Equal(["$d2"], (await Store.FederationDestinations.GetNewestOwedEventsAsync(Remote, 0, upTo, "", 1, Ct)).Select(e => e.EventId));
        Assert.Equal(["$b2"], (await Store.FederationDestinations.GetNewestOwedEventsAsync(Remote, 0, upTo, RoomA, 1, Ct)).Select(e => e.EventId));
        Assert.Empty(await Store.FederationDestinations.GetNewestOwedEventsAsync(Remote, 0, upTo, RoomB, 10, Ct));
        Assert.Empty(await Store.FederationDestinations.GetNewestOwedEventsAsync(Remote, a2[1].GlobalPosition, upTo, "", 10, Ct));
        Assert.Equal(0, await Store.FederationDestinations.CountOwedEventsAsync(Remote, a2[1].GlobalPosition, upTo, 10, Ct));
    }
}
