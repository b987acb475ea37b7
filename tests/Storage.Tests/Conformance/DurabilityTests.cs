using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class DurabilityTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    [Fact]
    public async Task Everything_written_is_there_after_closing_and_reopening()
    {
        await Store.Accounts.CreateAccountAsync(new NewAccount(Alice, "hash", 7, IsAdmin: true), Ct);
        await Store.Accounts.SetDisplayNameAsync(Alice, "Alice", Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "token", 8, "Phone"), Ct);
        await Store.Rooms.CreateRoomAsync(new NewRoom(RoomA, "10", Alice, 9, Published: true), Ct);
        await Store.Aliases.CreateAliasAsync(new RoomAlias("#a:test", RoomA, Alice), Ct);
        var appended = await Store.Events.AppendAsync(new EventBatch(RoomA, 0,
        [
            TestEvents.Member("$join", Alice, "join"),
            TestEvents.Message("$msg") with { Transaction = new ClientTransaction("PHONE", "t1") },
        ])
        {
            StateChanges = [new StateChange("m.room.member", Alice, "$join")],
        }, Ct);
        var accountDataPosition = await Store.AccountData.SetAccountDataAsync(Alice, null, "m.push_rules", TestEvents.Json(new { x = 1 }), Ct);
        var receiptPosition = await Store.Receipts.SetReceiptAsync(
            new NewReceipt(RoomA, "m.read", Alice, "$msg", 10, TestEvents.Json(new { ts = 10 })), Ct);
        var filterId = await Store.Filters.CreateFilterAsync(Alice, TestEvents.Json(new { f = 1 }), Ct);

        await ReopenAsync();

        Assert.Equal(new Account(Alice, "hash", 7, true, false, "Alice", null), await Store.Accounts.GetAccountAsync(Alice, Ct));
        Assert.Equal(new AccessTokenOwner(Alice, "PHONE"), await Store.Devices.FindAccessTokenOwnerAsync("token", Ct));
        Assert.Equal("Phone", (await Store.Devices.GetDeviceAsync(Alice, "PHONE", Ct))!.DisplayName);
        Assert.Equal(new Room(RoomA, "10", Alice, 9, true, 2), await Store.Rooms.GetRoomAsync(RoomA, Ct));
        Assert.Equal(RoomA, (await Store.Aliases.GetAliasAsync("#a:test", Ct))!.RoomId);
        Assert.Equal(["$join", "$msg"], (await Store.Events.GetLatestEventsAsync(RoomA, 10, Ct)).Select(e => e.EventId));
        Assert.Equal(appended[^1].GlobalPosition, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Equal("$join", Assert.Single(await Store.State.GetCurrentStateAsync(RoomA, Ct)).EventId);
        Assert.Equal("$msg", await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "t1", Ct));
        Assert.Equal(accountDataPosition, (await Store.AccountData.GetAccountDataAsync(Alice, null, "m.push_rules", Ct))!.StreamPosition);
        Assert.Equal(receiptPosition, Assert.Single(await Store.Receipts.GetReceiptsAsync(RoomA, Ct)).StreamPosition);
        Assert.Equal(TestEvents.Json(new { f = 1 }), await Store.Filters.GetFilterAsync(Alice, filterId, Ct));

        // Positions carry on from where they were, in every stream.
        var next = await Store.Events.AppendAsync(new EventBatch(RoomA, 2, [TestEvents.Message("$after")]), Ct);
        Assert.Equal((3L, appended[^1].GlobalPosition + 1), (next[0].RoomPosition, next[0].GlobalPosition));
        Assert.Equal(accountDataPosition + 1, await Store.AccountData.SetAccountDataAsync(Alice, null, "x", TestEvents.Json(new { }), Ct));
        Assert.Equal(filterId + 1, await Store.Filters.CreateFilterAsync(Alice, TestEvents.Json(new { }), Ct));
    }
}
