using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>End-to-end room tests share one server per class (per backend); every test makes its own users and rooms.</summary>
public abstract class RoomTestBase(BackendServerFixture fixture)
{
    protected static readonly HttpMethod Get = HttpMethod.Get;
    protected static readonly HttpMethod Post = HttpMethod.Post;
    protected static readonly HttpMethod Put = HttpMethod.Put;
    protected static readonly HttpMethod Delete = HttpMethod.Delete;

    protected BackendServerFixture Fixture => fixture;

    protected RunningServer Server => fixture.Server;

    protected async Task<RoomsClient> UserAsync(string name, string? displayName = null, bool isAdmin = false) =>
        new(Server.Client, await TestUsers.CreateAsync(Server, name, displayName, isAdmin));

    /// <summary>Alice's public room, Bob joined to it.</summary>
    protected async Task<(RoomsClient Alice, RoomsClient Bob, string RoomId)> RoomOfTwoAsync()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        return (alice, bob, roomId);
    }

    protected static string E(string value) => RoomsClient.Escape(value);

    protected static string[] Types(JsonElement events) =>
        events.EnumerateArray().Select(e => e.GetProperty("type").GetString()!).ToArray();

    protected static string[] EventIds(JsonElement events) =>
        events.EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!).ToArray();

    protected static string[] Bodies(JsonElement events) =>
        events.EnumerateArray().Select(e => e.GetProperty("content").GetProperty("body").GetString()!).ToArray();

    protected static JsonElement? FindState(JsonElement state, string type, string stateKey = "") =>
        state.EnumerateArray().Cast<JsonElement?>()
            .FirstOrDefault(e => e!.Value.GetProperty("type").GetString() == type && e.Value.GetProperty("state_key").GetString() == stateKey);

    protected static async Task<string[]> JoinedRoomsAsync(RoomsClient client) =>
        (await client.OkAsync(Get, "/joined_rooms")).GetProperty("joined_rooms").EnumerateArray().Select(r => r.GetString()!).ToArray();

    protected static async Task<string?> MembershipAsync(RoomsClient reader, string roomId, string userId)
    {
        var members = await reader.OkAsync(Get, $"/rooms/{E(roomId)}/members");
        return members.GetProperty("chunk").EnumerateArray()
            .Where(m => m.GetProperty("state_key").GetString() == userId)
            .Select(m => m.GetProperty("content").GetProperty("membership").GetString())
            .SingleOrDefault();
    }
}
