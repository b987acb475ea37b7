using System.Text;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

public sealed class RecordingGrainsServer : IAsyncLifetime
{
    public RunningServer Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await RunningServer.StartAsync(AccountsServerFixture.TestArguments, services: services =>
        {
            GrainStandIns.Replace<RoomGrain, RecordingRoomGrain>(services);
            GrainStandIns.Replace<SyncGrain, RecordingSyncGrain>(services);
        });

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>What the user grain tells other grains: rooms after profile changes, the sync grain after account data.</summary>
public sealed class UserGrainNotificationTests(RecordingGrainsServer fixture) : IClassFixture<RecordingGrainsServer>
{
    private HttpClient Client => fixture.Server.Client;

    private IHomeServerStore Store => fixture.Server.App.Services.GetRequiredService<IHomeServerStore>();

    [Fact]
    public async Task A_profile_change_updates_the_member_event_in_each_joined_room_only()
    {
        var user = await Client.RegisterAsync(NewUsername());
        var joined = new[] { await RoomWithMemberAsync(user.UserId, "join"), await RoomWithMemberAsync(user.UserId, "join") };
        var left = await RoomWithMemberAsync(user.UserId, "leave");

        using var name = await Client.PutAsync($"{V3}/profile/{user.UserId}/displayname", Json(new { displayname = "New Name" }), user.AccessToken);
        await name.OkJsonAsync();
        using var avatar = await Client.PutAsync($"{V3}/profile/{user.UserId}/avatar_url", Json(new { avatar_url = "mxc://localhost/abc" }), user.AccessToken);
        await avatar.OkJsonAsync();

        // Rooms are updated after the response, so wait for the four updates to arrive.
        var updates = await WaitForAsync(() => RecordingRoomGrain.ProfileUpdates.Where(update => update.UserId == user.UserId).ToList(), count: 4);
        Assert.Equal(4, updates.Count);
        foreach (var room in joined)
        {
            (string?, string?)[] inOrder = [("New Name", null), ("New Name", "mxc://localhost/abc")];
            Assert.Equal(inOrder, updates.Where(update => update.RoomId == room).Select(update => (update.DisplayName, update.AvatarUrl)));
        }
        Assert.DoesNotContain(updates, update => update.RoomId == left);
    }

    [Fact]
    public async Task Account_data_changes_notify_the_sync_grain_with_their_stream_position()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var global = await Client.PutAsync($"{V3}/user/{user.UserId}/account_data/org.example.a", "{}", user.AccessToken);
        await global.OkJsonAsync();
        using var room = await Client.PutAsync($"{V3}/user/{user.UserId}/rooms/!room:localhost/account_data/org.example.a", "{}", user.AccessToken);
        await room.OkJsonAsync();

        var notices = RecordingSyncGrain.Notices.Where(notice => notice.UserId == user.UserId).Select(notice => notice.Notice).ToList();
        var stored = await Store.AccountData.GetAccountDataChangesAsync(user.UserId, 0, CancellationToken.None);
        Assert.Equal(
            stored.Select(entry => new SyncNotice(SyncNoticeKind.AccountData, entry.RoomId, entry.StreamPosition)),
            notices);
        Assert.Equal([null, "!room:localhost"], notices.Select(notice => notice.RoomId));
    }

    private static async Task<List<T>> WaitForAsync<T>(Func<List<T>> read, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (read().Count < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(100); // and for anything unexpected after them
        return read();
    }

    private async Task<string> RoomWithMemberAsync(string userId, string membership)
    {
        var roomId = $"!{Guid.NewGuid():N}:localhost";
        var eventId = $"${Guid.NewGuid():N}";
        await Store.Rooms.CreateRoomAsync(new NewRoom(roomId, "10", userId, 1, Published: false), CancellationToken.None);
        var json = Encoding.UTF8.GetBytes($$$"""{"type":"m.room.member","state_key":"{{{userId}}}","content":{"membership":"{{{membership}}}"}}""");
        await Store.Events.AppendAsync(
            new EventBatch(roomId, 0, [new NewEvent(eventId, "m.room.member", userId, userId, 1, json) { Membership = membership }])
            {
                StateChanges = [new StateChange("m.room.member", userId, eventId)],
            },
            CancellationToken.None);
        return roomId;
    }
}
