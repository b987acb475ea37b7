using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Limits;

/// <summary>InputLimits:MaxJsonDepth (default 64): nesting up to it is accepted, one level more is M_BAD_JSON.</summary>
public sealed class JsonDepthLimitTests(SqliteServerFixture fixture) : RoomTestBase(fixture), IClassFixture<SqliteServerFixture>
{
    private const int DefaultMaxDepth = 64;

    /// <summary>An object of <paramref name="depth"/> nested objects and arrays in all (the outermost counts as 1).</summary>
    private static string Nested(int depth) =>
        "{\"msgtype\":\"m.text\",\"body\":\"x\",\"n\":" + string.Concat(Enumerable.Repeat("[", depth - 1)) + new string(']', depth - 1) + "}";

    [Fact]
    public async Task Event_content_at_the_depth_limit_is_accepted_and_one_deeper_is_bad_json()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        using (var atLimit = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/at", Nested(DefaultMaxDepth)))
            Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        using var over = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/over", Nested(DefaultMaxDepth + 1));
        await over.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");

        // The event wraps the content in more levels, and a sync response wraps the event again: both must still read.
        var messages = (await DeepJsonAsync(alice, $"/rooms/{E(roomId)}/messages?dir=b&limit=5")).GetProperty("chunk");
        Assert.Contains(messages.EnumerateArray(), e => e.GetProperty("content").TryGetProperty("n", out _));
        var sync = await DeepJsonAsync(alice, "/sync");
        Assert.True(sync.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out _));
    }

    private static async Task<JsonElement> DeepJsonAsync(RoomsClient client, string path)
    {
        using var response = await client.RequestAsync(Get, path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 512 });
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Typed_bodies_and_account_data_refuse_over_deep_json_as_bad_json()
    {
        var alice = await UserAsync("alice");
        var deep = "{\"name\":" + string.Concat(Enumerable.Repeat("[", 10_000)) + new string(']', 10_000) + "}";

        using (var createRoom = await alice.RawAsync(Post, "/createRoom", deep))
            await createRoom.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var accountData = await alice.RawAsync(Put, $"/user/{E(alice.UserId)}/account_data/m.deep", deep))
            await accountData.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var unclosed = await alice.RawAsync(Put, $"/user/{E(alice.UserId)}/account_data/m.deep", new string('[', 10_000)))
            await unclosed.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
    }

    [Fact]
    public async Task The_depth_limit_is_configurable()
    {
        await using var server = await RunningServer.StartAsync(["--InputLimits:MaxJsonDepth=3"]);
        var alice = new RoomsClient(server.Client, await TestUsers.CreateAsync(server, "alice"));

        using (var atLimit = await alice.RawAsync(Put, $"/user/{E(alice.UserId)}/account_data/m.d", "{\"a\":{\"b\":[1]}}"))
            Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        using var over = await alice.RawAsync(Put, $"/user/{E(alice.UserId)}/account_data/m.d", "{\"a\":{\"b\":[[1]]}}");
        await over.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
    }
}
