using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Restricted rooms across servers: a user of B who is joined to a room the join rule of A's room allows joins it
/// through A, whose make_join names a local authoriser and whose send_join signs the join; both servers keep the join
/// with A's signature. Users without the membership get 403 M_FORBIDDEN, a room whose allowed rooms A is not in gets
/// 400 M_UNABLE_TO_AUTHORISE_JOIN, and one where no member of A may invite 400 M_UNABLE_TO_GRANT_JOIN, passed on to the
/// client.
/// </summary>
public abstract class RestrictedJoinTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_member_of_an_allowed_room_joins_through_the_authorising_server_and_the_join_carries_its_signature()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var carol = await UserAsync(pair.B, "carol");
        var space = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = "10" });
        var restricted = await alice.CreateRoomAsync(new
        {
            preset = "private_chat",
            room_version = "10",
            initial_state = new object[]
            {
                new
                {
                    type = "m.room.join_rules", state_key = "",
                    content = new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = space } } },
                },
            },
        });

        await JoinThroughAAsync(bob, space);
        await JoinThroughAAsync(bob, restricted);

        var (joinId, joinOnA) = await MemberEventAsync(pair.A, alice, restricted, bob.UserId);
        Assert.Equal(alice.UserId, joinOnA.GetProperty("content").GetProperty("join_authorised_via_users_server").GetString());
        var signers = joinOnA.GetProperty("signatures").EnumerateObject().Select(s => s.Name).ToHashSet();
        Assert.Contains(pair.NameOfA, signers);
        Assert.Contains(pair.NameOfB, signers);
        // B keeps the same join, with A's signature, as the newest event of its copy.
        var storedOnB = await Store(pair.B).Events.GetEventAsync(joinId, CancellationToken.None);
        Assert.NotNull(storedOnB);
        Assert.Contains(pair.NameOfA, JsonDocument.Parse(storedOnB.Json).RootElement.GetProperty("signatures").EnumerateObject().Select(s => s.Name));
        // Bob's messages in the restricted room reach A.
        await bob.SendTextAsync(restricted, "hello from B");
        await WaitUntilAsync(async () =>
        {
            var messages = await alice.MessagesAsync(restricted, "dir=b&limit=5");
            return messages.GetProperty("chunk").EnumerateArray().Any(e => e.GetProperty("sender").GetString() == bob.UserId
                && e.GetProperty("type").GetString() == "m.room.message");
        }, "bob's message on A");

        // Carol is in no allowed room.
        await carol.FailsAsync(HttpMethod.Post, JoinPath(restricted), new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Equal("leave", await MembershipOnAAsync(alice, restricted, carol.UserId));
    }

    [Fact]
    public async Task A_room_whose_allowed_rooms_the_server_is_not_in_cannot_be_joined_through_it()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var elsewhere = $"!unknown{Guid.NewGuid():N}:{pair.NameOfB}";
        var restricted = await alice.CreateRoomAsync(new
        {
            preset = "private_chat",
            room_version = "9",
            initial_state = new object[]
            {
                new
                {
                    type = "m.room.join_rules", state_key = "",
                    content = new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = elsewhere } } },
                },
            },
        });

        await bob.FailsAsync(HttpMethod.Post, JoinPath(restricted), new { }, HttpStatusCode.BadRequest, "M_UNABLE_TO_AUTHORISE_JOIN");
    }

    [Fact]
    public async Task A_qualifying_user_is_told_to_try_another_server_when_no_local_member_may_invite()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var space = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = "10" });
        var restricted = await alice.CreateRoomAsync(new
        {
            preset = "private_chat",
            room_version = "10",
            power_level_content_override = new { invite = 101 },
            initial_state = new object[]
            {
                new
                {
                    type = "m.room.join_rules", state_key = "",
                    content = new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = space } } },
                },
            },
        });
        await JoinThroughAAsync(bob, space);

        await bob.FailsAsync(HttpMethod.Post, JoinPath(restricted), new { }, HttpStatusCode.BadRequest, "M_UNABLE_TO_GRANT_JOIN");
    }

    private string JoinPath(string roomId) => $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(pair.NameOfA)}";

    private Task JoinThroughAAsync(RoomsClient user, string roomId) => user.OkAsync(HttpMethod.Post, JoinPath(roomId), new { });

    private static IHomeServerStore Store(RunningServer server) => server.App.Services.GetRequiredService<IHomeServerStore>();

    /// <summary>The member event as server <paramref name="server"/> stores it (the PDU, signatures included).</summary>
    private static async Task<(string EventId, JsonElement Pdu)> MemberEventAsync(RunningServer server, RoomsClient member, string roomId, string userId)
    {
        var state = await member.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state");
        var eventId = state.EnumerateArray()
            .Single(e => e.GetProperty("type").GetString() == "m.room.member" && e.GetProperty("state_key").GetString() == userId)
            .GetProperty("event_id").GetString()!;
        var stored = await Store(server).Events.GetEventAsync(eventId, CancellationToken.None);
        Assert.NotNull(stored);
        return (eventId, JsonDocument.Parse(stored.Json).RootElement.Clone());
    }

    private static async Task<string> MembershipOnAAsync(RoomsClient member, string roomId, string userId)
    {
        using var response = await member.RequestAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state/m.room.member/{RoomsClient.Escape(userId)}");
        if (response.StatusCode == HttpStatusCode.NotFound) return "leave";
        var content = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return content.GetProperty("membership").GetString()!;
    }

    private async Task<RoomsClient> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new RoomsClient(pair.ClientFor(server), user);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Delay(100);
        }
    }
}

public sealed class SqliteRestrictedJoinTests(SqliteFederationPair pair)
    : RestrictedJoinTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresRestrictedJoinTests(PostgresFederationPair pair)
    : RestrictedJoinTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
