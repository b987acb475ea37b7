using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class AccountDataTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
    }

    [Fact]
    public async Task Global_and_room_account_data_read_back_separately()
    {
        var global = TestEvents.Json(new { ignored_users = new { } });
        var perRoom = TestEvents.Json(new { tags = new { favourite = new { order = 0.5 } } });

        var p1 = await Store.AccountData.SetAccountDataAsync(Alice, null, "m.tag", global, Ct);
        var p2 = await Store.AccountData.SetAccountDataAsync(Alice, RoomA, "m.tag", perRoom, Ct);

        Assert.True(p2 > p1);
        var readGlobal = await Store.AccountData.GetAccountDataAsync(Alice, null, "m.tag", Ct);
        var readRoom = await Store.AccountData.GetAccountDataAsync(Alice, RoomA, "m.tag", Ct);
        Assert.Equal((null, "m.tag", p1), (readGlobal!.RoomId, readGlobal.DataType, readGlobal.StreamPosition));
        Assert.Equal(global, readGlobal.Content);
        Assert.Equal((RoomA, "m.tag", p2), (readRoom!.RoomId, readRoom.DataType, readRoom.StreamPosition));
        Assert.Equal(perRoom, readRoom.Content);
        Assert.Null(await Store.AccountData.GetAccountDataAsync(Alice, RoomB, "m.tag", Ct));
        Assert.Null(await Store.AccountData.GetAccountDataAsync(Bob, null, "m.tag", Ct));
    }

    [Fact]
    public async Task Changes_since_a_position_include_overwrites_once_at_their_new_position()
    {
        Assert.Equal(0, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
        await Store.AccountData.SetAccountDataAsync(Alice, null, "a", TestEvents.Json(new { v = 1 }), Ct);
        var since = await Store.AccountData.SetAccountDataAsync(Alice, null, "b", TestEvents.Json(new { v = 1 }), Ct);
        await Store.AccountData.SetAccountDataAsync(Bob, null, "a", TestEvents.Json(new { v = 1 }), Ct);
        var roomWrite = await Store.AccountData.SetAccountDataAsync(Alice, RoomA, "c", TestEvents.Json(new { v = 1 }), Ct);
        var overwrite = await Store.AccountData.SetAccountDataAsync(Alice, null, "a", TestEvents.Json(new { v = 2 }), Ct);

        var changes = await Store.AccountData.GetAccountDataChangesAsync(Alice, since, Ct);

        Assert.Equal(
            [(RoomA, "c", roomWrite), ((string?)null, "a", overwrite)],
            changes.Select(c => (c.RoomId, c.DataType, c.StreamPosition)));
        Assert.Equal(TestEvents.Json(new { v = 2 }), changes[1].Content);
        Assert.Equal(3, (await Store.AccountData.GetAccountDataChangesAsync(Alice, 0, Ct)).Count);
        Assert.Empty(await Store.AccountData.GetAccountDataChangesAsync(Alice, overwrite, Ct));
        Assert.Equal(overwrite, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
    }

    [Fact]
    public async Task Account_data_of_an_unknown_user_is_refused()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() =>
            Store.AccountData.SetAccountDataAsync(Carol, null, "a", TestEvents.Json(new { }), Ct));
        await Assert.ThrowsAsync<EntityNotFoundException>(() =>
            Store.AccountData.SetAccountDataAsync(Carol, RoomA, "a", TestEvents.Json(new { }), Ct));

        Assert.Equal(0, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
    }
}
