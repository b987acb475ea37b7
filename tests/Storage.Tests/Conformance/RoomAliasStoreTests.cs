using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class RoomAliasStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    [Fact]
    public async Task Aliases_resolve_list_by_room_and_delete()
    {
        Assert.True(await Store.Aliases.CreateAliasAsync(new RoomAlias("#zeta:test", RoomA, Alice), Ct));
        Assert.True(await Store.Aliases.CreateAliasAsync(new RoomAlias("#alpha:test", RoomA, Bob), Ct));
        Assert.True(await Store.Aliases.CreateAliasAsync(new RoomAlias("#other:test", RoomB, Alice), Ct));

        Assert.Equal(new RoomAlias("#alpha:test", RoomA, Bob), await Store.Aliases.GetAliasAsync("#alpha:test", Ct));
        Assert.Equal(["#alpha:test", "#zeta:test"], await Store.Aliases.GetAliasesOfRoomAsync(RoomA, Ct));

        Assert.True(await Store.Aliases.DeleteAliasAsync("#alpha:test", Ct));
        Assert.False(await Store.Aliases.DeleteAliasAsync("#alpha:test", Ct));
        Assert.Null(await Store.Aliases.GetAliasAsync("#alpha:test", Ct));
        Assert.Equal(["#zeta:test"], await Store.Aliases.GetAliasesOfRoomAsync(RoomA, Ct));
        Assert.Empty(await Store.Aliases.GetAliasesOfRoomAsync(RoomC, Ct));
    }

    [Fact]
    public async Task A_taken_alias_is_not_moved()
    {
        await Store.Aliases.CreateAliasAsync(new RoomAlias("#room:test", RoomA, Alice), Ct);

        Assert.False(await Store.Aliases.CreateAliasAsync(new RoomAlias("#room:test", RoomB, Bob), Ct));

        Assert.Equal(new RoomAlias("#room:test", RoomA, Alice), await Store.Aliases.GetAliasAsync("#room:test", Ct));
    }

    [Fact]
    public async Task An_alias_for_an_unknown_room_is_refused()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() =>
            Store.Aliases.CreateAliasAsync(new RoomAlias("#ghost:test", "!ghost:test", Alice), Ct));

        Assert.Null(await Store.Aliases.GetAliasAsync("#ghost:test", Ct));
    }

    [Fact]
    public async Task Aliases_move_from_one_room_to_another()
    {
        await Store.Aliases.CreateAliasAsync(new RoomAlias("#one:test", RoomA, Alice), Ct);
        await Store.Aliases.CreateAliasAsync(new RoomAlias("#two:test", RoomA, Bob), Ct);
        await Store.Aliases.CreateAliasAsync(new RoomAlias("#b:test", RoomB, Alice), Ct);

        Assert.Equal(2, await Store.Aliases.MoveAliasesAsync(RoomA, RoomB, Ct));
        Assert.Empty(await Store.Aliases.GetAliasesOfRoomAsync(RoomA, Ct));
        Assert.Equal(["#b:test", "#one:test", "#two:test"], await Store.Aliases.GetAliasesOfRoomAsync(RoomB, Ct));
        Assert.Equal(new RoomAlias("#two:test", RoomB, Bob), await Store.Aliases.GetAliasAsync("#two:test", Ct));
        Assert.Equal(0, await Store.Aliases.MoveAliasesAsync(RoomA, RoomB, Ct));
    }
}
