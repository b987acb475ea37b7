using System.Net;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Limits;

/// <summary>Each endpoint's body size class: a body of exactly the limit is read, one byte more is 413 M_TOO_LARGE.</summary>
public sealed class BodySizeLimitTests
{
    /// <summary>A JSON object of exactly <paramref name="bytes"/> bytes: <c>{"p":"aaa…"}</c>.</summary>
    private static string ObjectOfLength(int bytes, string field = "p") => $"{{\"{field}\":\"{new string('a', bytes - field.Length - 7)}\"}}";

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string json, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task Login_accepts_16_KiB_by_default_and_refuses_one_byte_more()
    {
        await using var server = await RunningServer.StartAsync();
        const int limit = 16 * 1024;

        using (var atLimit = await PostAsync(server.Client, "/_matrix/client/v3/login", ObjectOfLength(limit, "password")))
            Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, atLimit.StatusCode);
        using var over = await PostAsync(server.Client, "/_matrix/client/v3/login", ObjectOfLength(limit + 1, "password"));
        await over.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
    }

    [Fact]
    public async Task Small_and_event_classes_are_configurable()
    {
        await using var server = await RunningServer.StartAsync(["--InputLimits:MaxSmallBodyBytes=500", "--InputLimits:MaxEventBodyBytes=1000"]);
        var alice = new RoomsClient(server.Client, await TestUsers.CreateAsync(server, "alice"));
        var roomId = await alice.CreateRoomAsync();
        var send = $"/rooms/{RoomsClient.Escape(roomId)}/send/m.room.message/";

        using (var atLimit = await alice.RawAsync(HttpMethod.Put, send + "a", ObjectOfLength(1000, "body")))
            Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        using (var over = await alice.RawAsync(HttpMethod.Put, send + "b", ObjectOfLength(1001, "body")))
            await over.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");

        using (var leaveAtLimit = await alice.RawAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/leave", ObjectOfLength(500, "reason")))
            Assert.Equal(HttpStatusCode.OK, leaveAtLimit.StatusCode);
        using var loginOver = await PostAsync(server.Client, "/_matrix/client/v3/login", ObjectOfLength(501, "password"));
        await loginOver.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
    }

    [Fact]
    public async Task The_largest_body_caps_every_class()
    {
        await using var server = await RunningServer.StartAsync(["--MaxRequestBodyBytes=300"]);

        using var login = await PostAsync(server.Client, "/_matrix/client/v3/login", ObjectOfLength(301, "password"));
        await login.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
    }
}
