using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>The room grain's rules for the content of what clients send: repeated state, join content, deleted aliases.</summary>
public sealed class RoomGrainContentTests : IAsyncLifetime
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private static readonly string Bob = Server.UserId("bob");
    private TestStore _store = null!;
    private GrainTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        _store = await TestStore.OpenAsync(StoreBackend.Sqlite);
        _cluster = await GrainTestCluster.StartAsync(1, _store.Store, Server);
        await _store.Store.Accounts.CreateAccountAsync(new NewAccount(Bob, null, 1), CancellationToken.None);
        await _store.Store.Accounts.SetDisplayNameAsync(Bob, "Bob B.", CancellationToken.None);
        await _store.Store.Accounts.SetAvatarUrlAsync(Bob, "mxc://test/bob", CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _store.DisposeAsync();
    }

    private async Task<IRoomGrain> PublicRoomAsync(string? aliasLocalpart = null)
    {
        var room = _cluster.Grains.GetGrain<IRoomGrain>($"!{Guid.NewGuid():N}:{Server.Name}");
        await room.CreateAsync(new CreateRoomRequest(Alice) { Preset = "public_chat", AliasLocalpart = aliasLocalpart });
        return room;
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static async Task<JsonElement> StateAsync(IRoomGrain room, string type, string stateKey = "") =>
        JsonDocument.Parse(await room.GetStateEventAsync(Alice, type, stateKey, asEvent: true)).RootElement.Clone();

    [Fact]
    public async Task A_state_event_equal_to_the_current_one_from_the_same_sender_answers_its_event_id()
    {
        var room = await PublicRoomAsync();
        var first = await room.SetStateAsync(new StateRequest(Alice, "m.room.name", "", Json("""{"name":"one","x":[1,{"y":null}]}""")));

        var again = await room.SetStateAsync(new StateRequest(Alice, "m.room.name", "", Json("""{"x":[1,{"y":null}],"name":"one"}""")));
        var other = await room.SetStateAsync(new StateRequest(Alice, "m.room.name", "", Json("""{"name":"one","x":[1,{"y":0}]}""")));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(other, (await StateAsync(room, "m.room.name")).GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task A_join_keeps_its_content_and_takes_the_profile_only_where_the_content_has_no_value()
    {
        var room = await PublicRoomAsync();

        await room.JoinWithContentAsync(new JoinRequest(Bob, Json("""{"membership":"ban","reason":"hi","org.example.flag":true,"avatar_url":null}""")));
        var member = await StateAsync(room, "m.room.member", Bob);
        var content = member.GetProperty("content");
        Assert.Equal("join", content.GetProperty("membership").GetString());
        Assert.Equal("hi", content.GetProperty("reason").GetString());
        Assert.True(content.GetProperty("org.example.flag").GetBoolean());
        Assert.Equal("Bob B.", content.GetProperty("displayname").GetString());
        Assert.Equal(JsonValueKind.Null, content.GetProperty("avatar_url").ValueKind);

        await room.JoinWithContentAsync(new JoinRequest(Bob, Json("""{"reason":"hi","org.example.flag":true,"avatar_url":null}""")));
        Assert.Equal(member.GetProperty("event_id").GetString(), (await StateAsync(room, "m.room.member", Bob)).GetProperty("event_id").GetString());

        await room.JoinWithContentAsync(new JoinRequest(Bob, Json("{}")));
        var plain = (await StateAsync(room, "m.room.member", Bob)).GetProperty("content");
        Assert.Equal("mxc://test/bob", plain.GetProperty("avatar_url").GetString());
        Assert.False(plain.TryGetProperty("org.example.flag", out _));
    }

    [Fact]
    public async Task Removing_a_deleted_alias_rewrites_the_canonical_alias_only_for_a_sender_with_the_power()
    {
        var room = await PublicRoomAsync("content-" + Guid.NewGuid().ToString("N")[..8]);
        var main = (await StateAsync(room, "m.room.canonical_alias")).GetProperty("content").GetProperty("alias").GetString()!;
        await room.JoinAsync(Bob, null);

        await room.RemoveCanonicalAliasAsync(main, Bob);
        Assert.Equal(main, (await StateAsync(room, "m.room.canonical_alias")).GetProperty("content").GetProperty("alias").GetString());

        await room.RemoveCanonicalAliasAsync(main, Alice);
        var after = await StateAsync(room, "m.room.canonical_alias");
        Assert.Empty(after.GetProperty("content").EnumerateObject());
        Assert.Equal(Alice, after.GetProperty("sender").GetString());
        await room.RemoveCanonicalAliasAsync(main, Alice);
        Assert.Equal(after.GetProperty("event_id").GetString(), (await StateAsync(room, "m.room.canonical_alias")).GetProperty("event_id").GetString());
    }

    [Theory]
    [InlineData("""{"alias":"#a:t","alt_aliases":["#b:t","#a:t"]}""", "#a:t", """{"alt_aliases":["#b:t"]}""")]
    [InlineData("""{"alias":"#b:t","alt_aliases":["#a:t"],"x":1}""", "#a:t", """{"alias":"#b:t","x":1}""")]
    [InlineData("""{"alias":"#b:t","alt_aliases":["#c:t"]}""", "#a:t", null)]
    [InlineData("""{"alias":"#a:t","alt_aliases":"not a list"}""", "#a:t", """{"alt_aliases":"not a list"}""")]
    public void Canonical_alias_content_without_an_alias(string content, string alias, string? expected)
    {
        var result = CanonicalAliasContent.Without(JsonNode.Parse(content)!.AsObject(), alias);

        if (expected is null) Assert.Null(result);
        else Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), result), result?.ToJsonString());
    }
}
