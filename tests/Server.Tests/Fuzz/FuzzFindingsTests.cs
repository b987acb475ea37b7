using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Fuzz;

/// <summary>What the hostile request fuzzer found once, each kept as a plain test.</summary>
public sealed class FuzzFindingsTests(SqliteServerFixture fixture) : RoomTestBase(fixture), IClassFixture<SqliteServerFixture>
{
    [Theory]
    [InlineData("{\"topic\":\"a\",\"topic\":\"b\"}")]
    [InlineData("{\"topic\":\"a\",\"x\":{\"k\":1,\"k\":2}}")]
    public async Task Event_content_with_a_duplicate_key_is_bad_json_not_a_server_error(string content)
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        using var state = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/state/m.room.topic/", content);
        await state.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using var message = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/dup", content);
        await message.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
    }

    [Theory]
    [InlineData("{\"body\":\"\\ud800\"}")]
    [InlineData("{\"body\":\"\\udfff\\ud800\"}")]
    [InlineData("{\"\\udc00\":1}")]
    public async Task Unpaired_surrogate_escapes_are_bad_json_not_a_server_error(string content)
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        using var power = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/state/m.room.power_levels/", content);
        await power.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using var message = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/lone", content);
        await message.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using var accountData = await alice.RawAsync(Put, $"/user/{E(alice.UserId)}/account_data/m.fuzz", content);
        await accountData.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
    }

    [Fact]
    public async Task A_properly_paired_surrogate_escape_is_accepted()
    {
        var alice = await UserAsync("alice");
        var roomId = await alice.CreateRoomAsync();

        using var message = await alice.RawAsync(Put, $"/rooms/{E(roomId)}/send/m.room.message/pair", "{\"msgtype\":\"m.text\",\"body\":\"\\ud83d\\udca9\"}");
        Assert.Equal(HttpStatusCode.OK, message.StatusCode);
    }

    [Theory]
    [InlineData("POST", "/.well-known/matrix/client")]
    [InlineData("DELETE", "/_homeserver/silo")]
    public async Task Wrong_method_outside_matrix_paths_is_405_unrecognized(string method, string path)
    {
        using var response = await Server.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "M_UNRECOGNIZED");
    }
}
