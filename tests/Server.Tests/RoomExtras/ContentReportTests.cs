using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.RoomExtras;

/// <summary>Reporting rooms, events and users (client-server/report_content.yaml) and the admins' list of reports.</summary>
public abstract class ContentReportTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private async Task<JsonElement> AdminGetAsync(RoomsClient admin, string pathAndQuery, HttpStatusCode expected = HttpStatusCode.OK, string? errcode = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin.User.AccessToken);
        using var response = await Server.Client.SendAsync(request);
        if (errcode is not null)
        {
            await response.AssertErrorAsync(expected, errcode);
            return default;
        }
        Assert.Equal(expected, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    /// <summary>Every report (following next_batch) filed by <paramref name="reporter"/>, newest first.</summary>
    private async Task<List<JsonElement>> ReportsByAsync(RoomsClient admin, string reporter)
    {
        var found = new List<JsonElement>();
        string? from = null;
        do
        {
            var page = await AdminGetAsync(admin, "/_homeserver/admin/reports?limit=50" + (from is null ? "" : "&from=" + E(from)));
            found.AddRange(page.GetProperty("reports").EnumerateArray().Where(r => r.GetProperty("reporter").GetString() == reporter));
            from = page.TryGetProperty("next_batch", out var next) ? next.GetString() : null;
        }
        while (from is not null);
        return found;
    }

    [Fact]
    public async Task Rooms_events_and_users_are_reported_and_listed_for_admins()
    {
        var admin = await UserAsync("admin", isAdmin: true);
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(roomId);
        var eventId = await alice.SendTextAsync(roomId, "offensive");
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        Assert.Equal("{}", (await bob.OkAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { reason = "rude", score = -100 })).GetRawText());
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { });
        Assert.Equal("{}", (await bob.OkAsync(Post, $"/rooms/{E(roomId)}/report", new { reason = "" })).GetRawText());
        Assert.Equal("{}", (await bob.OkAsync(Post, $"/users/{E(alice.UserId)}/report", new { reason = "spammer" })).GetRawText());

        var reports = await ReportsByAsync(admin, bob.UserId);
        Assert.Equal(4, reports.Count);
        var (user, room, bareEvent, scoredEvent) = (reports[0], reports[1], reports[2], reports[3]);
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.GetProperty("id").GetInt64() > p.Second.GetProperty("id").GetInt64()));
        Assert.All(reports, r => Assert.InRange(r.GetProperty("received_ts").GetInt64(), before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000));

        Assert.Equal(alice.UserId, user.GetProperty("user_id").GetString());
        Assert.Equal("spammer", user.GetProperty("reason").GetString());
        Assert.False(user.TryGetProperty("room_id", out _));
        Assert.Equal(roomId, room.GetProperty("room_id").GetString());
        Assert.Equal("", room.GetProperty("reason").GetString());
        Assert.False(room.TryGetProperty("event_id", out _));
        Assert.Equal(eventId, bareEvent.GetProperty("event_id").GetString());
        Assert.False(bareEvent.TryGetProperty("reason", out _));
        Assert.Equal(eventId, scoredEvent.GetProperty("event_id").GetString());
        Assert.Equal(roomId, scoredEvent.GetProperty("room_id").GetString());
        Assert.Equal("rude", scoredEvent.GetProperty("reason").GetString());
        Assert.Equal(-100, scoredEvent.GetProperty("score").GetInt64());

        // Paging one at a time returns the same reports in the same order.
        var first = await AdminGetAsync(admin, "/_homeserver/admin/reports?limit=1");
        Assert.Equal(1, first.GetProperty("reports").GetArrayLength());
        var second = await AdminGetAsync(admin, "/_homeserver/admin/reports?limit=1&from=" + E(first.GetProperty("next_batch").GetString()!));
        Assert.True(second.GetProperty("reports")[0].GetProperty("id").GetInt64() < first.GetProperty("reports")[0].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Event_reports_do_not_tell_outsiders_whether_the_event_exists()
    {
        var admin = await UserAsync("admin", isAdmin: true);
        var alice = await UserAsync("alice");
        var mallory = await UserAsync("mallory");
        var roomId = await alice.CreateRoomAsync();
        var eventId = await alice.SendTextAsync(roomId, "private");
        var otherRoom = await alice.CreateRoomAsync();
        var otherEvent = await alice.SendTextAsync(otherRoom, "elsewhere");

        // A non-member gets the same answer for a real event, an unknown event and an unknown room.
        await mallory.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await mallory.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E("$unknown")}", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await mallory.FailsAsync(Post, $"/rooms/{E("!nope:localhost")}/report/{E(eventId)}", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        // A member reporting an unknown event, or an event of another room through this room, is not found either.
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E("$unknown")}", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(otherEvent)}", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        // A member who left may no longer report.
        await alice.LeaveAsync(otherRoom);
        await alice.FailsAsync(Post, $"/rooms/{E(otherRoom)}/report/{E(otherEvent)}", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");

        Assert.Empty(await ReportsByAsync(admin, mallory.UserId));
        Assert.Empty(await ReportsByAsync(admin, alice.UserId));
    }

    [Fact]
    public async Task Rooms_and_users_are_reported_without_sharing_a_room_but_must_exist()
    {
        var admin = await UserAsync("admin", isAdmin: true);
        var alice = await UserAsync("alice");
        var mallory = await UserAsync("mallory");
        var roomId = await alice.CreateRoomAsync();

        await mallory.OkAsync(Post, $"/rooms/{E(roomId)}/report", new { reason = "bad room" });
        await mallory.FailsAsync(Post, $"/rooms/{E("!unknown:localhost")}/report", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await mallory.FailsAsync(Post, $"/users/{E("@nobody:localhost")}/report", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await mallory.FailsAsync(Post, $"/users/{E("@someone:elsewhere.example")}/report", new { reason = "x" }, HttpStatusCode.NotFound, "M_NOT_FOUND");

        var reports = await ReportsByAsync(admin, mallory.UserId);
        Assert.Equal(roomId, Assert.Single(reports).GetProperty("room_id").GetString());
    }

    [Fact]
    public async Task Bad_input_is_refused_and_stores_nothing()
    {
        var admin = await UserAsync("admin", isAdmin: true);
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();
        var eventId = await alice.SendTextAsync(roomId, "hello");

        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report", new { }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Post, $"/users/{E(alice.UserId)}/report", new { }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report", new { reason = 5 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { reason = new { } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { score = 10 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { score = -101 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { score = 1.5 }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, $"/rooms/{E(roomId)}/report/{E(eventId)}", new { reason = new string('r', 5000) }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, $"/rooms/not-a-room/report", new { reason = "x" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Post, $"/users/not-a-user/report", new { reason = "x" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var notJson = await alice.RawAsync(Post, $"/rooms/{E(roomId)}/report", "{"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var anonymous = await alice.RawAsync(Post, $"/rooms/{E(roomId)}/report", "{\"reason\":\"x\"}", authenticated: false))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");

        Assert.Empty(await ReportsByAsync(admin, alice.UserId));

        // Only admins list reports.
        await AdminGetAsync(alice, "/_homeserver/admin/reports", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await AdminGetAsync(admin, "/_homeserver/admin/reports?limit=0", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await AdminGetAsync(admin, "/_homeserver/admin/reports?from=abc", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }
}

public sealed class SqliteContentReportTests(SqliteServerFixture fixture) : ContentReportTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresContentReportTests(PostgresServerFixture fixture) : ContentReportTests(fixture), IClassFixture<PostgresServerFixture>;
