using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class RoomStateTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    [Fact]
    public async Task Current_state_follows_the_state_changes_of_each_append()
    {
        await AppendStateAsync(RoomA,
            TestEvents.State("$create", "m.room.create", "", new { creator = Alice }),
            TestEvents.Member("$alice-join", Alice, "join"),
            TestEvents.State("$name1", "m.room.name", "", new { name = "One" }));
        await AppendAsync(RoomA, [TestEvents.Message("$chat")]);
        await AppendStateAsync(RoomA, TestEvents.State("$name2", "m.room.name", "", new { name = "Two" }));

        var state = await Store.State.GetCurrentStateAsync(RoomA, Ct);

        Assert.Equal(
            [("m.room.create", "", "$create"), ("m.room.member", Alice, "$alice-join"), ("m.room.name", "", "$name2")],
            state.Select(e => (e.Type, e.StateKey!, e.EventId)));
        var name = await Store.State.GetStateEventAsync(RoomA, "m.room.name", "", Ct);
        Assert.Equal((await Store.Events.GetEventAsync("$name2", Ct))!.Json, name!.Json);
        Assert.Null(await Store.State.GetStateEventAsync(RoomA, "m.room.topic", "", Ct));
        Assert.Empty(await Store.State.GetCurrentStateAsync(RoomB, Ct));
    }

    [Fact]
    public async Task A_state_slot_can_be_cleared()
    {
        await AppendStateAsync(RoomA, TestEvents.State("$topic", "m.room.topic", "", new { topic = "t" }));

        await Store.Events.AppendAsync(new EventBatch(RoomA, 1, [TestEvents.Message("$m")])
        {
            StateChanges = [new StateChange("m.room.topic", "", null)],
        }, Ct);

        Assert.Empty(await Store.State.GetCurrentStateAsync(RoomA, Ct));
        Assert.NotNull(await Store.Events.GetEventAsync("$topic", Ct));
    }

    [Fact]
    public async Task A_state_change_may_point_at_an_event_of_an_earlier_batch()
    {
        await AppendAsync(RoomA, [TestEvents.State("$old", "m.room.topic", "", new { topic = "old" })]);
        Assert.Empty(await Store.State.GetCurrentStateAsync(RoomA, Ct));

        await Store.Events.AppendAsync(new EventBatch(RoomA, 1, [TestEvents.Message("$m")])
        {
            StateChanges = [new StateChange("m.room.topic", "", "$old")],
        }, Ct);

        Assert.Equal("$old", (await Store.State.GetStateEventAsync(RoomA, "m.room.topic", "", Ct))!.EventId);
    }

    [Fact]
    public async Task A_state_change_must_name_an_event_of_that_slot()
    {
        await AppendAsync(RoomA, [TestEvents.State("$name", "m.room.name", "", new { name = "n" })]);

        await Assert.ThrowsAsync<EntityNotFoundException>(() => Store.Events.AppendAsync(
            new EventBatch(RoomA, 1, [TestEvents.Message("$m")]) { StateChanges = [new StateChange("m.room.topic", "", "$name")] },
            Ct));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => Store.Events.AppendAsync(
            new EventBatch(RoomA, 1, [TestEvents.Message("$m")]) { StateChanges = [new StateChange("m.room.name", "", "$m")] },
            Ct));

        Assert.Empty(await Store.State.GetCurrentStateAsync(RoomA, Ct));
        Assert.Null(await Store.Events.GetEventAsync("$m", Ct));
    }

    [Fact]
    public async Task Members_and_rooms_of_a_user_come_from_current_member_state()
    {
        await AppendStateAsync(RoomA,
            TestEvents.Member("$a-alice", Alice, "join"),
            TestEvents.Member("$a-bob", Bob, "invite", Alice),
            TestEvents.Member("$a-carol", Carol, "ban", Alice));
        await AppendStateAsync(RoomB, TestEvents.Member("$b-bob", Bob, "join"));
        await AppendStateAsync(RoomA, TestEvents.Member("$a-bob-join", Bob, "join"));
        await AppendStateAsync(RoomB, TestEvents.Member("$b-bob-leave", Bob, "leave"));

        Assert.Equal(
            [
                new MembershipEntry(RoomA, Alice, "join", "$a-alice"),
                new MembershipEntry(RoomA, Bob, "join", "$a-bob-join"),
                new MembershipEntry(RoomA, Carol, "ban", "$a-carol"),
            ],
            await Store.State.GetMembersAsync(RoomA, null, Ct));
        Assert.Equal([Alice, Bob], (await Store.State.GetMembersAsync(RoomA, "join", Ct)).Select(m => m.UserId));
        Assert.Empty(await Store.State.GetMembersAsync(RoomA, "invite", Ct));

        Assert.Equal(
            [new MembershipEntry(RoomA, Bob, "join", "$a-bob-join"), new MembershipEntry(RoomB, Bob, "leave", "$b-bob-leave")],
            await Store.State.GetRoomsOfUserAsync(Bob, null, Ct));
        Assert.Equal([RoomA], (await Store.State.GetRoomsOfUserAsync(Bob, ["join", "invite"], Ct)).Select(m => m.RoomId));
        Assert.Equal([RoomB], (await Store.State.GetRoomsOfUserAsync(Bob, ["leave"], Ct)).Select(m => m.RoomId));
        Assert.Equal([RoomA], (await Store.State.GetRoomsOfUserAsync(Carol, ["ban"], Ct)).Select(m => m.RoomId));
        Assert.Empty(await Store.State.GetRoomsOfUserAsync(Carol, [], Ct));
        Assert.Empty(await Store.State.GetRoomsOfUserAsync("@nobody:test", null, Ct));
        Assert.Equal("join", (await Store.Events.GetEventAsync("$a-bob-join", Ct))!.Membership);
    }
}
