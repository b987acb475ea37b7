using System.Net;
using System.Net.Http.Headers;
using System.Text;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

/// <summary>What every client sees of the JSON on the wire: bodies that are not JSON, and the Content-Type of responses.</summary>
public sealed class JsonWireFormatTests(DefaultServerFixture fixture) : IClassFixture<DefaultServerFixture>
{
    private const string JsonUtf8 = "application/json; charset=utf-8";

    private HttpClient Client => fixture.Server.Client;

    private static HttpRequestMessage Request(HttpMethod method, string path, TestUser? user, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (user is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return request;
    }

    private static ByteArrayContent Bytes(byte[] body, string contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private async Task<(TestUser User, string RoomId)> RoomAsync()
    {
        var user = await TestUsers.CreateAsync(fixture.Server, "wire");
        using var create = Request(HttpMethod.Post, "/_matrix/client/v3/createRoom", user, Bytes("{}"u8.ToArray()));
        using var response = await Client.SendAsync(create);
        return (user, (await response.ReadJsonAsync()).GetProperty("room_id").GetString()!);
    }

    [Fact]
    public async Task A_body_that_is_not_utf8_or_is_empty_is_400_not_json_and_the_request_content_type_does_not_matter()
    {
        var (user, roomId) = await RoomAsync();
        var topicPath = $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/state/m.room.topic/";

        using (var latin1 = Request(HttpMethod.Put, topicPath, user, Bytes([.. "{\"topic\":\"caf"u8, 0xE9, .. "\"}"u8])))
        using (var response = await Client.SendAsync(latin1))
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var empty = Request(HttpMethod.Put, topicPath, user, Bytes([])))
        using (var response = await Client.SendAsync(empty))
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        using (var invalidName = Request(HttpMethod.Put, $"/_matrix/client/v3/profile/{Uri.EscapeDataString(user.UserId)}/displayname", user,
                   Bytes([.. "{\"displayname\":\""u8, 0xF0, 0x28, 0x8C, 0x28, .. "\"}"u8])))
        using (var response = await Client.SendAsync(invalidName))
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");

        // As Synapse, the body is read as JSON whatever the request says it is.
        using var plainText = Request(HttpMethod.Put, topicPath, user, Bytes(Encoding.UTF8.GetBytes("{\"topic\":\"café\"}"), "text/plain"));
        using var accepted = await Client.SendAsync(plainText);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Every_json_response_says_it_is_utf8_including_errors_and_fallbacks()
    {
        var (user, roomId) = await RoomAsync();
        var room = Uri.EscapeDataString(roomId);
        (HttpMethod Method, string Path, TestUser? User, HttpStatusCode Status)[] cases =
        [
            (HttpMethod.Get, "/_matrix/client/versions", null, HttpStatusCode.OK),
            (HttpMethod.Get, $"/_matrix/client/v3/rooms/{room}/state", user, HttpStatusCode.OK),
            (HttpMethod.Get, $"/_matrix/client/v3/rooms/{room}/joined_members", user, HttpStatusCode.OK),
            (HttpMethod.Get, "/_matrix/client/v3/sync?timeout=0", user, HttpStatusCode.OK),
            (HttpMethod.Get, "/_matrix/client/v3/account/whoami", user, HttpStatusCode.OK),
            (HttpMethod.Get, "/_matrix/client/v3/devices", user, HttpStatusCode.OK),
            (HttpMethod.Get, "/_matrix/client/v3/account/whoami", null, HttpStatusCode.Unauthorized),
            (HttpMethod.Get, $"/_matrix/client/v3/rooms/{room}/state/m.room.topic/", user, HttpStatusCode.NotFound),
            (HttpMethod.Get, "/_matrix/client/v3/no_such_endpoint", null, HttpStatusCode.NotFound),
            (HttpMethod.Post, "/_matrix/client/versions", null, HttpStatusCode.MethodNotAllowed),
        ];

        foreach (var (method, path, caller, status) in cases)
        {
            using var request = Request(method, path, caller, method == HttpMethod.Post ? Bytes("{}"u8.ToArray()) : null);
            using var response = await Client.SendAsync(request);
            Assert.True(status == response.StatusCode, $"{method} {path}: {(int)response.StatusCode}");
            Assert.True(JsonUtf8 == response.Content.Headers.ContentType?.ToString(), $"{method} {path}: {response.Content.Headers.ContentType}");
        }
    }
}
