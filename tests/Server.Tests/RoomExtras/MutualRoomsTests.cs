using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.RoomExtras;

/// <summary>GET /_matrix/client/v1/mutual_rooms (client-server/mutual_rooms.yaml).</summary>
public abstract class MutualRoomsTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private Task<JsonElement> MutualAsync(RoomsClient user, string otherUserId, string? from = null) =>
        ClientV1.OkAsync(Server.Client, user, $"/mutual_rooms?user_id={E(otherUserId)}" + (from is null ? "" : $"&from={E(from)}"));

    private static string[] Joined(JsonElement response) => response.GetProperty("joined").EnumerateArray().Select(r => r.GetString()!).ToArray();

    [Fact]
    public async Task Only_rooms_both_users_are_joined_to_are_listed()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var shared = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(shared);
        var aliceOnly = await alice.CreateRoomAsync(new { preset = "public_chat" });
        var invitedOnly = await alice.CreateRoomAsync();
        await alice.InviteAsync(invitedOnly, bob.UserId);
        var bobLeft = await alice.CreateRoomAsync(new { preset = "public_chat" });
        await bob.JoinAsync(bobLeft);
        await bob.LeaveAsync(bobLeft);
        _ = aliceOnly;

        var response = await MutualAsync(alice, bob.UserId);
        Assert.Equal([shared], Joined(response));
        Assert.Equal(1, response.GetProperty("count").GetInt32());
        Assert.False(response.TryGetProperty("next_batch", out _));
        Assert.Equal([shared], Joined(await MutualAsync(bob, alice.UserId)));

        // A user who does not exist shares no room: an empty list, not an error.
        var nobody = await MutualAsync(alice, "@nobody:localhost");
        Assert.Empty(Joined(nobody));
        Assert.Equal(0, nobody.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Many_mutual_rooms_come_in_batches_with_the_total_count()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        const int total = 55;
        var rooms = new List<string>();
        for (var i = 0; i < total; i++)
        {
            var roomId = await alice.CreateRoomAsync(new { preset = "public_chat" });
            await bob.JoinAsync(roomId);
            rooms.Add(roomId);
        }

        var first = await MutualAsync(alice, bob.UserId);
        Assert.Equal(total, first.GetProperty("count").GetInt32());
        var firstBatch = Joined(first);
        Assert.True(firstBatch.Length is > 0 and < total);
        var second = await MutualAsync(alice, bob.UserId, first.GetProperty("next_batch").GetString());
        Assert.Equal(total, second.GetProperty("count").GetInt32());
        Assert.False(second.TryGetProperty("next_batch", out _));

        var all = firstBatch.Concat(Joined(second)).ToArray();
        Assert.Equal(total, all.Distinct().Count());
        Assert.Equal(rooms.Order(StringComparer.Ordinal), all);
    }

    [Fact]
    public async Task Bad_requests_are_refused()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        await ClientV1.FailsAsync(Server.Client, alice, "/mutual_rooms", HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await ClientV1.FailsAsync(Server.Client, alice, "/mutual_rooms?user_id=bob", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await ClientV1.FailsAsync(Server.Client, alice, $"/mutual_rooms?user_id={E(alice.UserId)}", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await ClientV1.FailsAsync(Server.Client, alice, $"/mutual_rooms?user_id={E(bob.UserId)}&from=garbage", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await ClientV1.FailsAsync(Server.Client, null, $"/mutual_rooms?user_id={E(bob.UserId)}", HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }
}

public sealed class SqliteMutualRoomsTests(SqliteServerFixture fixture) : MutualRoomsTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresMutualRoomsTests(PostgresServerFixture fixture) : MutualRoomsTests(fixture), IClassFixture<PostgresServerFixture>;
