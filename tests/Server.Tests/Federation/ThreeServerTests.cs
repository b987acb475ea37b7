using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;
using static HomeServer.Server.Tests.Federation.FederatedMembers;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Three servers of this project, each with its own database, federating over TLS on loopback: users of B and C join a
/// room of A by alias, every server sends to the two others, and each member sees every message once and in order,
/// also when all three write at once (the room's graph forks); a power fight across a 30-second network partition
/// settles by state resolution the same way on every server, and what each side said meanwhile reaches the others.
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

    [Fact]
    public async Task Members_of_three_servers_sending_at_once_each_see_every_message_once()
    {
        var ((alice, aliceSync), (bob, bobSync), (carol, carolSync), roomId) = await RoomOfThreeAsync(new JsonObject { ["preset"] = "public_chat" });
        var logs = new[] { await MessageLog.FromNowAsync(aliceSync, roomId), await MessageLog.FromNowAsync(bobSync, roomId), await MessageLog.FromNowAsync(carolSync, roomId) };
        var senders = new[] { alice, bob, carol };
        const int each = 5;

        // No turns: the servers' events race, so the room's graph forks and each server merges what it gets.
        await Task.WhenAll(senders.Select((sender, k) => Task.Run(async () =>
        {
            for (var i = 0; i < each; i++) await sender.SendTextAsync(roomId, $"{"ABC"[k]} {i}");
        })));

        var expected = Enumerable.Range(0, 3).SelectMany(k => Enumerable.Range(0, each).Select(i => $"{"ABC"[k]} {i}")).Order().ToList();
        foreach (var log in logs)
        {
            await log.WaitForAsync(expected.Count, TimeSpan.FromSeconds(60));
            await log.SyncOnceAsync();
            Assert.Equal(expected, log.Bodies.Order().ToList());
            Assert.Equal(log.EventIds.Count, log.EventIds.Distinct().Count());
            foreach (var server in "ABC")
            {
                var ofServer = log.Bodies.Where(b => b[0] == server).ToList();
                Assert.Equal(ofServer.Order().ToList(), ofServer);
            }
        }
    }

    [Fact]
    public async Task A_power_fight_during_a_partition_settles_the_same_way_on_all_three_servers()
    {
        var ((alice, _), (bob, _), (carol, _), roomId) = await RoomOfThreeAsync(new JsonObject { ["preset"] = "public_chat" });
        var power = JsonNode.Parse((await alice.GetStateEventAsync(roomId, "m.room.power_levels")).GetRawText())!.AsObject();
        power["users"]![carol.UserId] = 50;
        await alice.SetStateAsync(roomId, "m.room.power_levels", power);
        foreach (var member in new[] { bob, carol })
            await WaitUntilAsync(async () => await LevelOfAsync(member, roomId, carol.UserId) == 50, $"carol's level 50 as {member.UserId}'s server sees it");

        // C is cut off. On A's side carol is demoted; on C's side, not knowing it, carol kicks bob.
        trio.Partition.Cut(trio.NameOfC, trio.NameOfA, trio.NameOfB);
        power["users"]![carol.UserId] = 0;
        await alice.SetStateAsync(roomId, "m.room.power_levels", power);
        await WaitUntilAsync(async () => await LevelOfAsync(bob, roomId, carol.UserId) == 0, "carol demoted as B sees it");
        await carol.OkAsync(HttpMethod.Post, $"/rooms/{RoomsClient.Escape(roomId)}/kick", new { user_id = bob.UserId, reason = "partition" });
        Assert.Equal("leave", (await carol.GetStateEventAsync(roomId, "m.room.member", bob.UserId)).GetProperty("membership").GetString());
        // Both sides go on talking while C stays cut off for 30 s (what the servers keep retrying meanwhile is dropped).
        var partitioned = System.Diagnostics.Stopwatch.StartNew();
        await alice.SendTextAsync(roomId, "said on A's side of the partition");
        await carol.SendTextAsync(roomId, "said on C's side of the partition");
        await Task.Delay(TimeSpan.FromSeconds(30) - partitioned.Elapsed);
        Assert.True(trio.Partition.Dropped > 0, "the partition dropped nothing: the servers did not try to reach each other");
        trio.Partition.Heal();

        // State resolution orders alice's demotion (level 100) before carol's kick, which then fails the auth rules:
        // every server ends with carol at level 0 and bob still joined.
        foreach (var member in new[] { alice, bob, carol })
        {
            await WaitUntilAsync(async () => await LevelOfAsync(member, roomId, carol.UserId) == 0
                                             && (await member.GetStateEventAsync(roomId, "m.room.member", bob.UserId)).GetProperty("membership").GetString() == "join",
                $"the resolved state as {member.UserId}'s server sees it", TimeSpan.FromSeconds(60));
        }
        Assert.Contains(bob.UserId, await JoinedMembersAsync(carol, roomId));
        // What each side said during the partition reaches the other: C sent its message only to the servers in the
        // room as C saw it then (not B, kicked there), so B fetches it when carol's next message cites it.
        await carol.SendTextAsync(roomId, "said after the heal");
        string[] said = ["said on A's side of the partition", "said on C's side of the partition", "said after the heal"];
        foreach (var member in new[] { alice, bob, carol })
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            HashSet<string> seen;
            while (!(seen = await BodiesAsync(member, roomId)).IsSupersetOf(said))
            {
                Assert.True(DateTime.UtcNow < deadline, $"{member.UserId}'s server has only: {string.Join(" | ", seen)}");
                await Task.Delay(100);
            }
        }
    }

    private static async Task<HashSet<string>> BodiesAsync(RoomsClient member, string roomId)
    {
        var page = await member.MessagesAsync(roomId, "dir=b&limit=50");
        return page.GetProperty("chunk").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.message")
            .Select(e => e.GetProperty("content").GetProperty("body").GetString()!)
            .ToHashSet();
    }

    private static async Task<long> LevelOfAsync(RoomsClient member, string roomId, string userId)
    {
        var power = await member.GetStateEventAsync(roomId, "m.room.power_levels");
        return power.TryGetProperty("users", out var users) && users.TryGetProperty(userId, out var level) ? level.GetInt64() : 0;
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
