using System.Net;
using System.Text;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Server.Tests.Rooms;

/// <summary>Typing, receipts, read markers, and the notices rooms send to sync grains.</summary>
public abstract class RoomNotificationTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private IHomeServerStore Store => Server.App.Services.GetRequiredService<IHomeServerStore>();

    private IRoomGrain Room(string roomId) => Server.App.Services.GetRequiredService<IGrainFactory>().GetGrain<IRoomGrain>(roomId);

    [Fact]
    public async Task New_events_and_membership_changes_notify_the_users_concerned()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var carol = await UserAsync("carol");

        var eventId = await alice.SendTextAsync(roomId, "ping");
        var stored = await Store.Events.GetEventAsync(eventId, CancellationToken.None);
        await alice.InviteAsync(roomId, carol.UserId);
        var invite = (await Store.State.GetStateEventAsync(roomId, "m.room.member", carol.UserId, CancellationToken.None))!;

        foreach (var member in new[] { alice, bob })
            await RecordingSyncGrain.WaitForAsync(member.UserId,
                n => n is { Kind: SyncNoticeKind.RoomEvent } && n.RoomId == roomId && n.Position == stored!.GlobalPosition);
        await RecordingSyncGrain.WaitForAsync(carol.UserId,
            n => n is { Kind: SyncNoticeKind.Membership } && n.RoomId == roomId && n.Position == invite.GlobalPosition);
        Assert.DoesNotContain(RecordingSyncGrain.NoticesOf(carol.UserId), n => n.Kind == SyncNoticeKind.RoomEvent && n.Position == stored!.GlobalPosition);
    }

    [Fact]
    public async Task Typing_is_set_by_members_for_themselves_and_expires()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var outsider = await UserAsync("outsider");
        var before = await Room(roomId).GetTypingAsync();

        await alice.OkAsync(Put, $"/rooms/{E(roomId)}/typing/{E(alice.UserId)}", new { typing = true, timeout = 30000 });

        var typing = await Room(roomId).GetTypingAsync();
        Assert.Equal([alice.UserId], typing.UserIds);
        Assert.True(typing.Serial > before.Serial);
        await RecordingSyncGrain.WaitForAsync(bob.UserId, n => n.Kind == SyncNoticeKind.Typing && n.RoomId == roomId && n.Position == typing.Serial);

        await bob.OkAsync(Put, $"/rooms/{E(roomId)}/typing/{E(bob.UserId)}", new { typing = true, timeout = 200 });
        Assert.Equal(new[] { alice.UserId, bob.UserId }.Order(StringComparer.Ordinal), (await Room(roomId).GetTypingAsync()).UserIds);
        await WaitUntilAsync(async () => (await Room(roomId).GetTypingAsync()).UserIds.SequenceEqual([alice.UserId]));

        await alice.OkAsync(Put, $"/rooms/{E(roomId)}/typing/{E(alice.UserId)}", new { typing = false });
        var stopped = await Room(roomId).GetTypingAsync();
        Assert.Empty(stopped.UserIds);
        Assert.True(stopped.Serial > typing.Serial);

        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/typing/{E(bob.UserId)}", new { typing = true }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await outsider.FailsAsync(Put, $"/rooms/{E(roomId)}/typing/{E(outsider.UserId)}", new { typing = true }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/typing/{E(alice.UserId)}", new { timeout = 5 }, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Put, $"/rooms/{E(roomId)}/typing/{E(alice.UserId)}", new { typing = "yes" }, HttpStatusCode.BadRequest, "M_BAD_JSON");

        await bob.OkAsync(Put, $"/rooms/{E(roomId)}/typing/{E(bob.UserId)}", new { typing = true, timeout = 30000 });
        await bob.LeaveAsync(roomId);
        await WaitUntilAsync(async () => (await Room(roomId).GetTypingAsync()).UserIds.Count == 0);
    }

    [Fact]
    public async Task Receipts_are_stored_and_shown_to_members_private_ones_only_to_their_owner()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var eventId = await alice.SendTextAsync(roomId, "read me");

        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(eventId)}", new { thread_id = "main" });
        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read.private/{E(eventId)}", new { });

        var receipts = await Store.Receipts.GetReceiptsAsync(roomId, CancellationToken.None);
        var read = Assert.Single(receipts, r => r.ReceiptType == "m.read");
        Assert.Equal((bob.UserId, eventId), (read.UserId, read.EventId));
        Assert.Contains("\"thread_id\":\"main\"", Encoding.UTF8.GetString(read.Data));
        var readPrivate = Assert.Single(receipts, r => r.ReceiptType == "m.read.private");
        await RecordingSyncGrain.WaitForAsync(alice.UserId, n => n.Kind == SyncNoticeKind.Receipt && n.Position == read.StreamPosition);
        await RecordingSyncGrain.WaitForAsync(bob.UserId, n => n.Kind == SyncNoticeKind.Receipt && n.Position == readPrivate.StreamPosition);
        Assert.DoesNotContain(RecordingSyncGrain.NoticesOf(alice.UserId), n => n.Kind == SyncNoticeKind.Receipt && n.Position == readPrivate.StreamPosition);

        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.seen/{E(eventId)}", new { }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(eventId)}", new { thread_id = "" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(eventId)}", new { thread_id = 4 }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.fully_read/{E(eventId)}", new { thread_id = "main" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E("$" + new string('C', 43))}", new { }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        var outsider = await UserAsync("outsider");
        await outsider.FailsAsync(Post, $"/rooms/{E(roomId)}/receipt/m.read/{E(eventId)}", new { }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
    }

    [Fact]
    public async Task Read_markers_set_the_fully_read_marker_and_receipts()
    {
        var (alice, bob, roomId) = await RoomOfTwoAsync();
        var first = await alice.SendTextAsync(roomId, "one");
        var second = await alice.SendTextAsync(roomId, "two");

        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/read_markers", new Dictionary<string, string>
        {
            ["m.fully_read"] = first,
            ["m.read"] = second,
            ["m.read.private"] = second,
        });

        var marker = await Store.AccountData.GetAccountDataAsync(bob.UserId, roomId, "m.fully_read", CancellationToken.None);
        Assert.Equal($"{{\"event_id\":\"{first}\"}}", Encoding.UTF8.GetString(marker!.Content));
        await RecordingSyncGrain.WaitForAsync(bob.UserId, n => n.Kind == SyncNoticeKind.AccountData && n.Position == marker.StreamPosition);
        var receipts = await Store.Receipts.GetReceiptsAsync(roomId, CancellationToken.None);
        Assert.Equal(["m.read", "m.read.private"], receipts.Where(r => r.UserId == bob.UserId && r.EventId == second).Select(r => r.ReceiptType).Order());

        await bob.OkAsync(Post, $"/rooms/{E(roomId)}/receipt/m.fully_read/{E(second)}", new { });
        marker = await Store.AccountData.GetAccountDataAsync(bob.UserId, roomId, "m.fully_read", CancellationToken.None);
        Assert.Equal($"{{\"event_id\":\"{second}\"}}", Encoding.UTF8.GetString(marker!.Content));
        await bob.FailsAsync(Post, $"/rooms/{E(roomId)}/read_markers", new Dictionary<string, string> { ["m.fully_read"] = "nope" },
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not become true in time.");
            await Task.Delay(50);
        }
    }
}

public sealed class SqliteRoomNotificationTests(SqliteRecordingServerFixture fixture) : RoomNotificationTests(fixture), IClassFixture<SqliteRecordingServerFixture>;

public sealed class PostgresRoomNotificationTests(PostgresRecordingServerFixture fixture) : RoomNotificationTests(fixture), IClassFixture<PostgresRecordingServerFixture>;
