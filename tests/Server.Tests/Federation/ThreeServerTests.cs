using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using static HomeServer.Server.Tests.Federation.FederatedMembers;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Three servers of this project, each with its own database, federating over TLS on loopback: users of B and C join a
/// room of A by alias, every server sends to the two others, and each member sees every message once and in order.
/// </summary>
public abstract class ThreeServerTests<TTrio>(TTrio trio) where TTrio : FederationTrio
{
    [Fact]
    public async Task Users_of_B_and_C_join_a_room_of_A_by_alias_and_each_member_sees_every_message_once_in_order()
    {
        var ((alice, aliceSync), (bob, bobSync), (carol, carolSync), roomId) = await RoomOfThreeAsync(new JsonObject { ["preset"] = "public_chat", ["name"] = "Three-server plaza" });

        // Taking turns keeps the room linear: each message is sent once every server has the one before.
        var logs = new[] { await MessageLog.FromNowAsync(aliceSync, roomId), await MessageLog.FromNowAsync(bobSync, roomId), await MessageLog.FromNowAsync(carolSync, roomId) };
        var senders = new[] { alice, bob, carol };
        var sent = Enumerable.Range(0, 6).Select(i => $"message {i + 1} from {"ABC"[i % 3]}").ToArray();
        for (var i = 0; i < sent.Length; i++)
        {
            await senders[i % 3].SendTextAsync(roomId, sent[i]);
            foreach (var log in logs) await log.WaitForAsync(i + 1);
        }
        foreach (var log in logs)
        {
            await log.SyncOnceAsync();
            Assert.Equal(sent, log.Bodies);
            Assert.Equal(logs[0].EventIds, log.EventIds);
        }

        // C's user leaves: A and B see it, and C gets none of the room's later events.
        await carol.LeaveAsync(roomId);
        foreach (var member in new[] { alice, bob })
            await WaitUntilAsync(async () => !(await JoinedMembersAsync(member, roomId)).Contains(carol.UserId), $"carol gone as {member.UserId}'s server sees it");
        await bob.SendTextAsync(roomId, "after C left");
        await logs[0].WaitForAsync(sent.Length + 1);
        await logs[1].WaitForAsync(sent.Length + 1);
        var carolMember = await alice.GetStateEventAsync(roomId, "m.room.member", carol.UserId);
        Assert.Equal("leave", carolMember.GetProperty("membership").GetString());
        using var afterLeave = await carol.RequestAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/messages?dir=b&limit=5");
        var page = JsonDocument.Parse(await afterLeave.Content.ReadAsStringAsync()).RootElement;
        Assert.DoesNotContain(page.GetProperty("chunk").EnumerateArray(),
            e => e.TryGetProperty("content", out var content) && content.TryGetProperty("body", out var body) && body.GetString() == "after C left");
    }

    /// <summary>A room of A that users of B and C joined by alias, once every server sees all three joined.</summary>
    private async Task<((RoomsClient, SyncUser) A, (RoomsClient, SyncUser) B, (RoomsClient, SyncUser) C, string RoomId)> RoomOfThreeAsync(
        JsonObject creation)
    {
        var a = await UserAsync(trio, trio.A, "alice");
        var b = await UserAsync(trio, trio.B, "bob");
        var c = await UserAsync(trio, trio.C, "carol");
        var aliasName = "plaza-" + Guid.NewGuid().ToString("N")[..8];
        creation["room_alias_name"] = aliasName;
        var roomId = await a.Rooms.CreateRoomAsync(creation);
        var alias = $"#{aliasName}:{trio.NameOfA}";

        await b.Rooms.JoinAsync(alias);
        await WaitUntilAsync(async () => (await JoinedMembersAsync(a.Rooms, roomId)).Contains(b.Rooms.UserId), "B's user in A's member list");
        await c.Rooms.JoinAsync(alias);
        string[] everyone = [a.Rooms.UserId, b.Rooms.UserId, c.Rooms.UserId];
        foreach (var member in new[] { a.Rooms, b.Rooms, c.Rooms })
            await WaitUntilAsync(async () => (await JoinedMembersAsync(member, roomId)).Order().SequenceEqual(everyone.Order()),
                $"all three joined as {member.UserId}'s server sees it");
        return (a, b, c, roomId);
    }
}

public sealed class SqliteThreeServerTests(SqliteFederationTrio trio)
    : ThreeServerTests<SqliteFederationTrio>(trio), IClassFixture<SqliteFederationTrio>;

public sealed class PostgresThreeServerTests(PostgresFederationTrio trio)
    : ThreeServerTests<PostgresFederationTrio>(trio), IClassFixture<PostgresFederationTrio>;
