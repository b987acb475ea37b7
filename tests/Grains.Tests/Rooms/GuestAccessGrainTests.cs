using System.Text.Json;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Tests.Infrastructure;
using Orleans;

namespace HomeServer.Grains.Tests.Rooms;

public sealed class SqliteGuestAccessGrainTests() : GuestAccessGrainTests(StoreBackend.Sqlite);

public sealed class PostgresGuestAccessGrainTests() : GuestAccessGrainTests(StoreBackend.Postgres);

/// <summary>The Guest Access module's rules where they live: guest accounts in the user grain, joining and revoking in the room grain.</summary>
public abstract class GuestAccessGrainTests(StoreBackend backend) : IAsyncLifetime
{
    private static readonly LocalServer Server = new("test");
    private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement;

    private TestStore _store = null!;
    private GrainTestCluster _cluster = null!;

    private IGrainFactory Grains => _cluster.Grains;

    public async Task InitializeAsync()
    {
        _store = await TestStore.OpenAsync(backend);
        _cluster = await GrainTestCluster.StartAsync(1, _store.Store, Server);
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        await _store.DisposeAsync();
    }

    private async Task<string> GuestAsync()
    {
        var userId = Server.UserId(GuestUserIds.NewLocalpart());
        await Grains.GetGrain<IUserGrain>(userId).RegisterGuestAsync(new DeviceLogin(null, null, null));
        return userId;
    }

    private async Task<string> FullUserAsync(string localpart)
    {
        var userId = Server.UserId(localpart);
        await Grains.GetGrain<IUserGrain>(userId).RegisterAsync(new AccountRegistration("hash", IsAdmin: false, DisplayName: null, Login: null));
        return userId;
    }

    private async Task<(string RoomId, string Owner)> PublicRoomAsync(string? guestAccess)
    {
        var owner = await FullUserAsync($"owner-{Guid.NewGuid():N}");
        var roomId = $"!guests{Guid.NewGuid():N}:{Server.Name}";
        var room = Grains.GetGrain<IRoomGrain>(roomId);
        await room.CreateAsync(new CreateRoomRequest(owner) { Preset = "public_chat" });
        if (guestAccess is not null) await SetGuestAccessAsync(roomId, owner, guestAccess);
        return (roomId, owner);
    }

    private Task SetGuestAccessAsync(string roomId, string sender, string value) =>
        Grains.GetGrain<IRoomGrain>(roomId).SetStateAsync(new StateRequest(sender, "m.room.guest_access", "",
            JsonDocument.Parse(JsonSerializer.Serialize(new { guest_access = value })).RootElement));

    private async Task<string> MembershipAsync(string roomId, string reader, string userId)
    {
        var content = await Grains.GetGrain<IRoomGrain>(roomId).GetStateEventAsync(reader, "m.room.member", userId, asEvent: false);
        return JsonDocument.Parse(content).RootElement.GetProperty("membership").GetString()!;
    }

    [Fact]
    public async Task A_guest_account_authenticates_as_guest_until_upgraded_once()
    {
        var userId = Server.UserId(GuestUserIds.NewLocalpart());
        var user = Grains.GetGrain<IUserGrain>(userId);

        var login = await user.RegisterGuestAsync(new DeviceLogin("GUESTDEV", null, null));

        Assert.Equal(new Session(userId, "GUESTDEV", IsAdmin: false, IsGuest: true), await user.AuthenticateAsync(login.AccessToken));
        Assert.Null(await user.GetPasswordHashAsync());
        var upgraded = await user.UpgradeGuestAsync("new-hash", new DeviceLogin("FULL", null, null));
        Assert.False((await user.AuthenticateAsync(login.AccessToken))!.IsGuest);
        Assert.False((await user.AuthenticateAsync(upgraded!.AccessToken))!.IsGuest);
        Assert.Equal("new-hash", await user.GetPasswordHashAsync());
        var again = await Assert.ThrowsAsync<MatrixRequestException>(() => user.UpgradeGuestAsync("other", null));
        Assert.Equal("M_FORBIDDEN", again.ErrCode);
        Assert.Equal("new-hash", await user.GetPasswordHashAsync());
    }

    [Fact]
    public async Task Guest_accounts_need_a_free_numeric_user_id()
    {
        var named = await Assert.ThrowsAsync<MatrixRequestException>(() =>
            Grains.GetGrain<IUserGrain>(Server.UserId("alice")).RegisterGuestAsync(new DeviceLogin(null, null, null)));
        Assert.Equal("M_INVALID_USERNAME", named.ErrCode);
        var guest = await GuestAsync();
        var taken = await Assert.ThrowsAsync<MatrixRequestException>(() =>
            Grains.GetGrain<IUserGrain>(guest).RegisterGuestAsync(new DeviceLogin(null, null, null)));
        Assert.Equal("M_USER_IN_USE", taken.ErrCode);
        var fullAccount = await Assert.ThrowsAsync<MatrixRequestException>(() =>
            Grains.GetGrain<IUserGrain>(Server.UserId($"full-{Guid.NewGuid():N}")).UpgradeGuestAsync("hash", null));
        Assert.Equal("M_FORBIDDEN", fullAccount.ErrCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("forbidden")]
    [InlineData("something_else")]
    public async Task A_guest_cannot_join_unless_guest_access_is_can_join(string? guestAccess)
    {
        var (roomId, owner) = await PublicRoomAsync(guestAccess);
        var guest = await GuestAsync();

        var refused = await Assert.ThrowsAsync<MatrixRequestException>(() => Grains.GetGrain<IRoomGrain>(roomId).JoinAsync(guest, null));

        Assert.Equal("M_FORBIDDEN", refused.ErrCode);
        Assert.False(await Grains.GetGrain<IRoomGrain>(roomId).IsJoinedAsync(guest));
        await SetGuestAccessAsync(roomId, owner, "can_join");
        await Grains.GetGrain<IRoomGrain>(roomId).JoinAsync(guest, null);
        Assert.True(await Grains.GetGrain<IRoomGrain>(roomId).IsJoinedAsync(guest));
    }

    [Fact]
    public async Task A_full_account_with_a_numeric_id_from_before_joins_like_anyone()
    {
        var (roomId, _) = await PublicRoomAsync(guestAccess: null);
        var numeric = await FullUserAsync(GuestUserIds.NewLocalpart());

        await Grains.GetGrain<IRoomGrain>(roomId).JoinAsync(numeric, null);

        Assert.True(await Grains.GetGrain<IRoomGrain>(roomId).IsJoinedAsync(numeric));
    }

    [Fact]
    public async Task Revoking_guest_access_makes_the_guests_leave_and_only_them()
    {
        var (roomId, owner) = await PublicRoomAsync("can_join");
        var room = Grains.GetGrain<IRoomGrain>(roomId);
        var guests = new[] { await GuestAsync(), await GuestAsync() };
        var member = await FullUserAsync(GuestUserIds.NewLocalpart());
        foreach (var userId in guests.Append(member)) await room.JoinAsync(userId, null);

        await SetGuestAccessAsync(roomId, owner, "forbidden");

        var deadline = DateTime.UtcNow.AddSeconds(10);
        foreach (var guest in guests)
        {
            while (await room.IsJoinedAsync(guest) && DateTime.UtcNow < deadline) await Task.Delay(20);
        }
        foreach (var guest in guests) Assert.Equal("leave", await MembershipAsync(roomId, owner, guest));
        Assert.Equal("join", await MembershipAsync(roomId, owner, member));
        Assert.Equal("join", await MembershipAsync(roomId, owner, owner));
    }
}
