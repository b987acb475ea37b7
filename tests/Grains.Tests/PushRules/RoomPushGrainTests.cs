using System.Text;
using System.Text.Json;
using HomeServer.Grains.PushRules;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.PushRules;

/// <summary>The room grain stores each event's notifications for all its members with the event, and follows rule edits.</summary>
public sealed class RoomPushGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Every_member_gets_the_notification_of_one_event_and_a_rule_edit_applies_to_the_next(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        await using var cluster = await GrainTestCluster.StartAsync(1, store.Store, Server);
        var members = Enumerable.Range(0, 40).Select(i => Server.UserId($"member{i}")).ToList();
        foreach (var userId in members.Append(Alice))
            await store.Store.Accounts.CreateAccountAsync(new NewAccount(userId, null, 1), CancellationToken.None);
        var roomId = $"!{Guid.NewGuid():N}:{Server.Name}";
        var room = cluster.Grains.GetGrain<IRoomGrain>(roomId);
        await room.CreateAsync(new CreateRoomRequest(Alice) { Preset = "public_chat" });
        foreach (var userId in members) await room.JoinWithContentAsync(new JoinRequest(userId, Json("{}")));

        var mention = $$$"""{"msgtype":"m.text","body":"hi","m.mentions":{"user_ids":["{{{members[7]}}}"]}}""";
        await room.SendMessageAsync(new MessageRequest(Alice, "D", "m.room.message", Json(mention), "t1"));

        foreach (var userId in members)
        {
            var counts = Assert.Single(await store.Store.Push.GetUnreadCountsAsync(userId, [roomId], CancellationToken.None));
            Assert.Equal((1, userId == members[7] ? 1 : 0), (counts.NotificationCount, counts.HighlightCount));
        }
        Assert.Empty(await store.Store.Push.GetUnreadCountsAsync(Alice, [roomId], CancellationToken.None));

        // The member silences the room; the room grain, already holding the old rules, must see the edit.
        await cluster.Grains.GetGrain<IPushRulesGrain>(members[3]).PutRuleAsync("room", roomId, Encoding.UTF8.GetBytes("""{"actions":["dont_notify"]}"""), null, null);
        await room.SendMessageAsync(new MessageRequest(Alice, "D", "m.room.message", Json("""{"msgtype":"m.text","body":"again"}"""), "t2"));
        Assert.Equal(1, (await store.Store.Push.GetUnreadCountsAsync(members[3], [roomId], CancellationToken.None)).Single().NotificationCount);
        Assert.Equal(2, (await store.Store.Push.GetUnreadCountsAsync(members[4], [roomId], CancellationToken.None)).Single().NotificationCount);
    }
}
