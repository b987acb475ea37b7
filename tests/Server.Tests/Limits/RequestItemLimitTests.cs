using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Limits;

/// <summary>Counts of items in one request (invites, initial state, filter lists): N is accepted, N+1 is M_INVALID_PARAM.</summary>
public sealed class RequestItemLimitTests : IAsyncLifetime
{
    private RunningServer _server = null!;

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync(
        ["--InputLimits:MaxInvitesPerRoomCreation=2", "--InputLimits:MaxInitialStateEvents=2", "--InputLimits:MaxFilterListItems=3"]);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<RoomsClient> UserAsync(string name) => new(_server.Client, await TestUsers.CreateAsync(_server, name));

    private static object[] States(int count) =>
        Enumerable.Range(0, count).Select(i => (object)new { type = "m.fuzz.state", state_key = $"k{i}", content = new { i } }).ToArray();

    [Fact]
    public async Task Create_room_takes_at_most_the_configured_invites_and_initial_state_events()
    {
        var alice = await UserAsync("alice");
        var invitees = new List<string>();
        for (var i = 0; i < 3; i++) invitees.Add((await TestUsers.CreateAsync(_server, $"bob{i}")).UserId);

        await alice.CreateRoomAsync(new { invite = invitees.Take(2).ToArray(), initial_state = States(2) });
        await alice.FailsAsync(HttpMethod.Post, "/createRoom", new { invite = invitees.ToArray() }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(HttpMethod.Post, "/createRoom", new { initial_state = States(3) }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Filter_lists_take_at_most_the_configured_entries_of_at_most_255_bytes()
    {
        var alice = await UserAsync("alice");
        var path = $"/user/{RoomsClient.Escape(alice.UserId)}/filter";

        await alice.OkAsync(HttpMethod.Post, path, new { room = new { rooms = new[] { "!a:x", "!b:x", "!c:x" }, timeline = new { types = new[] { new string('t', 255) } } } });
        await alice.FailsAsync(HttpMethod.Post, path, new { room = new { rooms = new[] { "!a:x", "!b:x", "!c:x", "!d:x" } } }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(HttpMethod.Post, path, new { room = new { timeline = new { types = new[] { new string('t', 256) } } } }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(HttpMethod.Post, path, new { event_fields = new[] { "a", "b", "c", "d" } }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    [Fact]
    public async Task Inline_sync_and_messages_filters_are_bounded_the_same_way()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        string Filter(object value) => RoomsClient.Escape(JsonSerializer.Serialize(value));

        // Twice each: a filter that passed is remembered, one that was refused is refused again.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            await alice.OkAsync(HttpMethod.Get, "/sync?timeout=0&filter=" + Filter(new { room = new { timeline = new { senders = new[] { "@a:x", "@b:x", "@c:x" } } } }));
            await alice.FailsAsync(HttpMethod.Get, "/sync?timeout=0&filter=" + Filter(new { room = new { timeline = new { senders = new[] { "@a:x", "@b:x", "@c:x", "@d:x" } } } }),
                null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        }
        var messages = $"/rooms/{RoomsClient.Escape(roomId)}/messages?dir=b&filter=";
        await alice.OkAsync(HttpMethod.Get, messages + Filter(new { types = new[] { "a", "b", "c" } }));
        await alice.FailsAsync(HttpMethod.Get, messages + Filter(new { types = new[] { "a", "b", "c", "d" } }), null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }
}
