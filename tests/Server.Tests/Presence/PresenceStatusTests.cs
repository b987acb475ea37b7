using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Presence;

/// <summary>GET and PUT /presence/{userId}/status as a client sees them (client-server/presence.yaml).</summary>
public abstract class PresenceStatusTests : SyncTestBase
{
    internal static string StatusPath(string userId) => $"/_matrix/client/v3/presence/{Uri.EscapeDataString(userId)}/status";

    internal static async Task SetPresenceAsync(SyncUser user, object body)
    {
        var response = await user.SendAsync(HttpMethod.Put, StatusPath(user.UserId), JsonSerializer.SerializeToNode(body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT presence: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
    }

    internal static async Task<JsonElement> GetPresenceAsync(SyncUser viewer, string userId)
    {
        var response = await viewer.GetAsync(StatusPath(userId));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET presence: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    private static async Task AssertFailsAsync(Task<HttpResponseMessage> call, HttpStatusCode status, string errcode)
    {
        var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode} {body}");
        Assert.Equal(errcode, JsonDocument.Parse(body).RootElement.GetProperty("errcode").GetString());
    }

    [Fact]
    public async Task Own_presence_reads_back_with_status_message_and_last_active_ago_computed_now()
    {
        var alice = await RegisterAsync("alice");

        await SetPresenceAsync(alice, new { presence = "online", status_msg = "Ich bin hier 🌿" });
        var online = await GetPresenceAsync(alice, alice.UserId);

        Assert.Equal("online", online.GetProperty("presence").GetString());
        Assert.Equal("Ich bin hier 🌿", online.GetProperty("status_msg").GetString());
        Assert.True(online.GetProperty("currently_active").GetBoolean());
        var ago = online.GetProperty("last_active_ago").GetInt64();
        Assert.InRange(ago, 0, 10_000);

        await Task.Delay(300);
        var later = await GetPresenceAsync(alice, alice.UserId);
        Assert.True(later.GetProperty("last_active_ago").GetInt64() >= ago + 250, "last_active_ago grows between reads");

        // Leaving status_msg out replaces the message with none (as Synapse does); unavailable is not currently active.
        await SetPresenceAsync(alice, new { presence = "unavailable" });
        var away = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal("unavailable", away.GetProperty("presence").GetString());
        Assert.False(away.TryGetProperty("status_msg", out _));
        Assert.False(away.TryGetProperty("currently_active", out _));
        Assert.True(away.TryGetProperty("last_active_ago", out _), "the last activity stays known");
    }

    [Fact]
    public async Task A_user_who_never_was_online_is_offline_without_last_active_ago()
    {
        var alice = await RegisterAsync("alice");
        var presence = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal("offline", presence.GetProperty("presence").GetString());
        Assert.False(presence.TryGetProperty("last_active_ago", out _));
    }

    [Fact]
    public async Task Others_presence_is_visible_only_with_a_shared_room()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        await SetPresenceAsync(bob, new { presence = "online", status_msg = "coding" });

        await AssertFailsAsync(alice.GetAsync(StatusPath(bob.UserId)), HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.JoinAsync(roomId);
        var seen = await GetPresenceAsync(alice, bob.UserId);
        Assert.Equal(("online", "coding"), (seen.GetProperty("presence").GetString(), seen.GetProperty("status_msg").GetString()));

        await bob.Rooms.LeaveAsync(roomId);
        await AssertFailsAsync(alice.GetAsync(StatusPath(bob.UserId)), HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Unknown_and_malformed_users_are_refused()
    {
        var alice = await RegisterAsync("alice");
        await AssertFailsAsync(alice.GetAsync(StatusPath("@nobody:localhost")), HttpStatusCode.NotFound, "M_NOT_FOUND");
        await AssertFailsAsync(alice.GetAsync(StatusPath("@someone:elsewhere.example")), HttpStatusCode.NotFound, "M_NOT_FOUND");
        await AssertFailsAsync(alice.GetAsync(StatusPath("not-a-user-id")), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        var anonymous = await Server.Client.GetAsync(StatusPath(alice.UserId));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Setting_anothers_presence_or_a_bad_body_is_refused_and_changes_nothing()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        await SetPresenceAsync(alice, new { presence = "unavailable", status_msg = "lunch" });

        await AssertFailsAsync(bob.SendAsync(HttpMethod.Put, StatusPath(alice.UserId), JsonNode.Parse("""{"presence":"online"}""")),
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        (string Body, string Errcode)[] bad =
        [
            ("{}", "M_BAD_JSON"),
            ("""{"status_msg":"no presence"}""", "M_BAD_JSON"),
            ("""{"presence":"busy"}""", "M_INVALID_PARAM"),
            ("""{"presence":"Online"}""", "M_INVALID_PARAM"),
            ("""{"presence":5}""", "M_BAD_JSON"),
            ("""{"presence":null}""", "M_BAD_JSON"),
            ("""{"presence":"online","status_msg":42}""", "M_BAD_JSON"),
            ("""{"presence":"online","status_msg":["x"]}""", "M_BAD_JSON"),
            ("""["online"]""", "M_BAD_JSON"),
        ];
        foreach (var (body, errcode) in bad)
        {
            await AssertFailsAsync(alice.Rooms.RawAsync(HttpMethod.Put, $"/presence/{Uri.EscapeDataString(alice.UserId)}/status", body),
                HttpStatusCode.BadRequest, errcode);
        }
        await AssertFailsAsync(alice.Rooms.RawAsync(HttpMethod.Put, $"/presence/{Uri.EscapeDataString(alice.UserId)}/status", "{not json"),
            HttpStatusCode.BadRequest, "M_NOT_JSON");

        var unchanged = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal(("unavailable", "lunch"), (unchanged.GetProperty("presence").GetString(), unchanged.GetProperty("status_msg").GetString()));
    }

    [Fact]
    public async Task The_status_message_survives_a_restart()
    {
        var alice = await RegisterAsync("alice");
        await SetPresenceAsync(alice, new { presence = "unavailable", status_msg = "on holiday" });

        await RestartAsync();
        alice = alice.On(Server);

        var presence = await GetPresenceAsync(alice, alice.UserId);
        Assert.Equal(("unavailable", "on holiday"), (presence.GetProperty("presence").GetString(), presence.GetProperty("status_msg").GetString()));
    }
}

public sealed class SqlitePresenceStatusTests : PresenceStatusTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresPresenceStatusTests : PresenceStatusTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
