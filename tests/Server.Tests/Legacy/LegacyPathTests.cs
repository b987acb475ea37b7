using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests.Legacy;

/// <summary>
/// The r0 API of older clients: what existed in r0 answers under <c>/_matrix/client/r0</c> and <c>/_matrix/media/r0</c>
/// as under v3; what the spec added later (<c>x-addedInMatrixVersion</c>) and whatever exists only under v1 does not.
/// </summary>
public abstract class LegacyPathTests(LegacyPathServerFixture fixture) : RoomTestBase(fixture)
{
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        return await Server.Client.SendAsync(request);
    }

    private async Task<JsonElement> OkAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var response = await SendAsync(method, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path} answered {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task The_r0_api_answers_as_v3_for_a_whole_conversation()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        const string R0 = "/_matrix/client/r0";

        Assert.Equal(alice.UserId, (await OkAsync(Get, $"{R0}/account/whoami", alice.User.AccessToken)).GetProperty("user_id").GetString());
        var roomId = (await OkAsync(Post, $"{R0}/createRoom", alice.User.AccessToken, new { name = "r0" })).GetProperty("room_id").GetString()!;
        await OkAsync(Post, $"{R0}/rooms/{E(roomId)}/invite", alice.User.AccessToken, new { user_id = bob.UserId });
        await OkAsync(Post, $"{R0}/join/{E(roomId)}", bob.User.AccessToken, new { });
        await OkAsync(Put, $"{R0}/rooms/{E(roomId)}/send/m.room.message/t1", bob.User.AccessToken, new { msgtype = "m.text", body = "over r0" });

        var messages = await OkAsync(Get, $"{R0}/rooms/{E(roomId)}/messages?dir=b&limit=1", alice.User.AccessToken);
        Assert.Equal(["over r0"], Bodies(messages.GetProperty("chunk")));
        var sync = await OkAsync(Get, $"{R0}/sync?timeout=0", bob.User.AccessToken);
        Assert.True(sync.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out _));
        // The same errors as v3, too.
        using var anonymous = await SendAsync(Get, $"{R0}/account/whoami", null);
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        using var wrongMethod = await SendAsync(Delete, $"{R0}/account/whoami", alice.User.AccessToken);
        await wrongMethod.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "M_UNRECOGNIZED");
    }

    [Theory]
    // Only under v1, whether or not this server serves them there.
    [InlineData("GET", "/_matrix/client/r0/rooms/!r:localhost/relations/$e")]
    [InlineData("GET", "/_matrix/client/r0/rooms/!r:localhost/threads")]
    [InlineData("GET", "/_matrix/client/r0/rooms/!r:localhost/hierarchy")]
    [InlineData("GET", "/_matrix/client/r0/rooms/!r:localhost/timestamp_to_event?ts=1&dir=f")]
    [InlineData("GET", "/_matrix/client/r0/room_summary/!r:localhost")]
    [InlineData("GET", "/_matrix/client/r0/media/config")]
    [InlineData("POST", "/_matrix/client/r0/login/get_token")]
    [InlineData("GET", "/_matrix/client/r0/admin/lock/@alice:localhost")]
    [InlineData("POST", "/_matrix/client/r0/appservice/as/ping")]
    [InlineData("GET", "/_matrix/media/r0/create")]
    // Under v3, but added to the spec after r0.
    [InlineData("GET", "/_matrix/client/r0/room_keys/version")]
    [InlineData("POST", "/_matrix/client/r0/keys/device_signing/upload")]
    [InlineData("POST", "/_matrix/client/r0/keys/signatures/upload")]
    [InlineData("POST", "/_matrix/client/r0/knock/!r:localhost")]
    [InlineData("POST", "/_matrix/client/r0/refresh")]
    [InlineData("POST", "/_matrix/client/r0/rooms/!r:localhost/report")]
    [InlineData("POST", "/_matrix/client/r0/users/@bob:localhost/report")]
    [InlineData("PUT", "/_matrix/media/r0/upload/localhost/abc")]
    public async Task Endpoints_added_after_r0_are_unrecognized_under_r0(string method, string path)
    {
        var alice = await UserAsync("alice");

        using var response = await SendAsync(new HttpMethod(method), path, alice.User.AccessToken, new { });

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_UNRECOGNIZED");
    }

    [Fact]
    public async Task An_endpoint_added_after_r0_still_answers_under_v3()
    {
        var alice = await UserAsync("alice");

        // No backup yet: the endpoint's own 404, not an unknown path.
        using var response = await SendAsync(Get, "/_matrix/client/v3/room_keys/version", alice.User.AccessToken);
        await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Theory]
    [InlineData("/_matrix/media/r0/legacy_path_probe/x?q=1", "/_matrix/media/v3/legacy_path_probe/x", "?q=1")]
    [InlineData("/_matrix/client/r0/legacy_path_probe/x", "/_matrix/client/v3/legacy_path_probe/x", "")]
    public async Task Every_v3_route_gets_its_r0_path_without_declaring_it(string path, string routedPath, string query)
    {
        using var response = await SendAsync(Get, path, null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(routedPath + query, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Only_r0_is_rewritten_and_v1_routes_are_not_reached_from_v3()
    {
        using var v1FromV3 = await SendAsync(Get, "/_matrix/client/v3/legacy_path_v1_probe", null);
        await v1FromV3.AssertErrorAsync(HttpStatusCode.NotFound, "M_UNRECOGNIZED");
        using var v1FromR0 = await SendAsync(Get, "/_matrix/client/r0/legacy_path_v1_probe", null);
        await v1FromR0.AssertErrorAsync(HttpStatusCode.NotFound, "M_UNRECOGNIZED");
        using var v1 = await SendAsync(Get, "/_matrix/client/v1/legacy_path_v1_probe", null);
        Assert.Equal(HttpStatusCode.OK, v1.StatusCode);
    }
}

/// <summary>A server with probe routes that echo the path they were reached under, standing for routes of any module.</summary>
public abstract class LegacyPathServerFixture : BackendServerFixture
{
    protected override void Configure(WebApplication app)
    {
        static IResult Echo(HttpContext context) => TypedResults.Text(context.Request.Path + context.Request.QueryString);
        app.MapGet("/_matrix/media/v3/legacy_path_probe/{x}", Echo);
        app.MapGet("/_matrix/client/v3/legacy_path_probe/{x}", Echo);
        app.MapGet("/_matrix/client/v1/legacy_path_v1_probe", Echo);
    }
}

public sealed class SqliteLegacyPathServerFixture : LegacyPathServerFixture
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresLegacyPathServerFixture : LegacyPathServerFixture
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

public sealed class SqliteLegacyPathTests(SqliteLegacyPathServerFixture fixture) : LegacyPathTests(fixture), IClassFixture<SqliteLegacyPathServerFixture>;

public sealed class PostgresLegacyPathTests(PostgresLegacyPathServerFixture fixture) : LegacyPathTests(fixture), IClassFixture<PostgresLegacyPathServerFixture>;
