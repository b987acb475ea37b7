using System.Net;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using static HomeServer.Server.Tests.Accounts.AccountsApi;
using static HomeServer.Server.Tests.RateLimits.RateLimitTestServer;

namespace HomeServer.Server.Tests.RateLimits;

/// <summary>
/// A server with every per-user, per-room and per-address bucket tight, shared by tests that each use their own users,
/// rooms and (through the trusted proxy 127.0.0.1) client address.
/// </summary>
public sealed class TightRequestServer : IAsyncLifetime
{
    public const int MessageBurst = 3;
    public const int RoomCreationBurst = 3;
    public const int JoinsLocalBurst = 2;
    public const int JoinsPerRoomBurst = 3;
    public const int InvitesPerIssuerBurst = 2;
    public const int InvitesPerRoomBurst = 4;
    public const int InvitesPerUserBurst = 1;
    public const int UserRequestsBurst = 3;
    public const int RegistrationBurst = 2;
    public const int AvailabilityBurst = 3;
    public const int TokenValidityBurst = 2;
    public const int AddressRequestsBurst = 3;

    /// <summary>Never limited (RateLimits:ExemptUsers).</summary>
    public const string ExemptUserId = "@exempt-bot:localhost";

    private RunningServer? _server;

    public RunningServer Server => _server ?? throw new InvalidOperationException("not started");

    public HttpClient Client => Server.Client;

    public async Task InitializeAsync() => _server = await StartAsync([
        ForwardedClient.TrustLoopback,
        $"--RateLimits:ExemptUsers:0={ExemptUserId}",
        .. Tight(RateLimitBucket.Message, MessageBurst),
        .. Tight(RateLimitBucket.RoomCreation, RoomCreationBurst),
        .. Tight(RateLimitBucket.JoinsLocal, JoinsLocalBurst),
        .. Tight(RateLimitBucket.JoinsPerRoom, JoinsPerRoomBurst),
        .. Tight(RateLimitBucket.InvitesPerIssuer, InvitesPerIssuerBurst),
        .. Tight(RateLimitBucket.InvitesPerRoom, InvitesPerRoomBurst),
        .. Tight(RateLimitBucket.InvitesPerUser, InvitesPerUserBurst),
        .. Tight(RateLimitBucket.UserRequests, UserRequestsBurst),
        .. Tight(RateLimitBucket.Registration, RegistrationBurst),
        .. Tight(RateLimitBucket.RegistrationAvailability, AvailabilityBurst),
        .. Tight(RateLimitBucket.RegistrationTokenValidity, TokenValidityBurst),
        .. Tight(RateLimitBucket.AddressRequests, AddressRequestsBurst)]);

    public Task<TestUser> NewUserAsync(bool isAdmin = false) => TestUsers.CreateAsync(Server, "user", isAdmin: isAdmin);

    /// <summary>The user of <see cref="ExemptUserId"/> with a new access token.</summary>
    public async Task<TestUser> ExemptUserAsync()
    {
        var store = Server.App.Services.GetRequiredService<IHomeServerStore>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await store.Accounts.CreateAccountAsync(new NewAccount(ExemptUserId, null, now), CancellationToken.None);
        var token = AccessTokens.Create(ExemptUserId);
        var deviceId = $"D{Guid.NewGuid():N}"[..11];
        Assert.True(await store.Devices.IssueAccessTokenAsync(new NewAccessToken(ExemptUserId, deviceId, token, now), CancellationToken.None));
        return new TestUser(ExemptUserId, deviceId, token);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}

/// <summary>For every limit: the last request within the burst succeeds and the next one is 429; exempt users are not limited.</summary>
public sealed class RequestRateLimitTests(TightRequestServer tight) : IClassFixture<TightRequestServer>
{
    private HttpClient Client => tight.Client;

    [Fact]
    public async Task Messages_and_state_events_share_the_per_user_bucket()
    {
        var alice = await tight.NewUserAsync();
        var bob = await tight.NewUserAsync();
        var room = await Client.CreateRoomAsync(alice);

        using (var state = await Client.PutAsync($"{V3}/rooms/{room}/state/m.room.topic/", Json(new { topic = "limits" }), alice.AccessToken)) await state.AssertOkAsync();
        for (var i = 1; i < TightRequestServer.MessageBurst; i++)
        {
            using var sent = await Client.SendMessageAsync(alice, room);
            await sent.AssertOkAsync();
        }
        using (var refused = await Client.SendMessageAsync(alice, room)) await refused.AssertLimitExceededAsync();
        using (var refusedState = await Client.PutAsync($"{V3}/rooms/{room}/state/m.room.topic/", Json(new { topic = "again" }), alice.AccessToken))
            await refusedState.AssertLimitExceededAsync();

        using var join = await Client.JoinAsync(bob, room);
        await join.AssertOkAsync();
        using var other = await Client.SendMessageAsync(bob, room);
        await other.AssertOkAsync();
    }

    [Fact]
    public async Task Exempt_users_and_admins_are_not_limited()
    {
        var exempt = await tight.ExemptUserAsync();
        var admin = await tight.NewUserAsync(isAdmin: true);
        foreach (var user in new[] { exempt, admin })
        {
            var room = await Client.CreateRoomAsync(user);
            for (var i = 0; i < TightRequestServer.MessageBurst + 3; i++)
            {
                using var sent = await Client.SendMessageAsync(user, room);
                await sent.AssertOkAsync();
            }
            for (var i = 0; i < TightRequestServer.UserRequestsBurst + 3; i++)
            {
                Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(user.AccessToken));
            }
        }
    }

    [Fact]
    public async Task Room_creation_stops_after_the_burst()
    {
        var alice = await tight.NewUserAsync();
        for (var i = 0; i < TightRequestServer.RoomCreationBurst; i++) await Client.CreateRoomAsync(alice);
        using var refused = await Client.PostAsync($"{V3}/createRoom", "{}", alice.AccessToken);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Joins_per_user_stop_after_the_burst()
    {
        var rooms = new List<string>();
        for (var i = 0; i <= TightRequestServer.JoinsLocalBurst; i++) rooms.Add(await Client.CreateRoomAsync(await tight.NewUserAsync()));
        var joiner = await tight.NewUserAsync();
        for (var i = 0; i < TightRequestServer.JoinsLocalBurst; i++)
        {
            using var joined = await Client.JoinAsync(joiner, rooms[i]);
            await joined.AssertOkAsync();
        }
        using var refused = await Client.PostAsync($"{V3}/join/{Uri.EscapeDataString(rooms[^1])}", "{}", joiner.AccessToken);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Joins_per_room_stop_after_the_burst()
    {
        var room = await Client.CreateRoomAsync(await tight.NewUserAsync());
        for (var i = 0; i < TightRequestServer.JoinsPerRoomBurst; i++)
        {
            using var joined = await Client.JoinAsync(await tight.NewUserAsync(), room);
            await joined.AssertOkAsync();
        }
        using var refused = await Client.JoinAsync(await tight.NewUserAsync(), room);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Invites_per_issuer_stop_after_the_burst()
    {
        var alice = await tight.NewUserAsync();
        var room = await Client.CreateRoomAsync(alice);
        for (var i = 0; i < TightRequestServer.InvitesPerIssuerBurst; i++)
        {
            using var invited = await Client.InviteAsync(alice, room, (await tight.NewUserAsync()).UserId);
            await invited.AssertOkAsync();
        }
        using var refused = await Client.InviteAsync(alice, room, (await tight.NewUserAsync()).UserId);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Invites_into_one_room_stop_after_the_burst_whoever_sends_them()
    {
        var room = await Client.CreateRoomAsync(await tight.NewUserAsync());
        var inviters = new List<TestUser>();
        for (var i = 0; i < 3; i++)
        {
            var member = await tight.NewUserAsync();
            using var joined = await Client.JoinAsync(member, room);
            await joined.AssertOkAsync();
            inviters.Add(member);
        }
        for (var i = 0; i < TightRequestServer.InvitesPerRoomBurst; i++)
        {
            using var invited = await Client.InviteAsync(inviters[i / TightRequestServer.InvitesPerIssuerBurst], room, (await tight.NewUserAsync()).UserId);
            await invited.AssertOkAsync();
        }
        using var refused = await Client.InviteAsync(inviters[^1], room, (await tight.NewUserAsync()).UserId);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Invites_received_by_one_user_stop_after_the_burst()
    {
        var invitee = await tight.NewUserAsync();
        for (var i = 0; i < TightRequestServer.InvitesPerUserBurst; i++)
        {
            var inviter = await tight.NewUserAsync();
            using var invited = await Client.InviteAsync(inviter, await Client.CreateRoomAsync(inviter), invitee.UserId);
            await invited.AssertOkAsync();
        }
        var last = await tight.NewUserAsync();
        using var refused = await Client.InviteAsync(last, await Client.CreateRoomAsync(last), invitee.UserId);
        await refused.AssertLimitExceededAsync();
    }

    [Fact]
    public async Task Cheap_requests_per_user_stop_after_the_burst()
    {
        var alice = await tight.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(alice.AccessToken));
        using (var capabilities = await Client.GetAsync($"{V3}/capabilities", alice.AccessToken)) await capabilities.AssertOkAsync();
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync(alice.AccessToken));
        using var refused = await Client.GetAsync($"{V3}/account/whoami", alice.AccessToken);
        await refused.AssertLimitExceededAsync();
        Assert.Equal(HttpStatusCode.OK, await Client.WhoAmIStatusAsync((await tight.NewUserAsync()).AccessToken));
    }

    [Fact]
    public async Task Registrations_per_address_stop_after_the_burst()
    {
        var address = ForwardedClient.NewAddress();
        for (var i = 0; i < TightRequestServer.RegistrationBurst; i++)
        {
            using var registered = await RegisterFromAsync(address, NewUsername());
            await registered.AssertOkAsync();
        }
        using var refused = await RegisterFromAsync(address, NewUsername());
        await refused.AssertLimitExceededAsync();
        using var elsewhere = await RegisterFromAsync(ForwardedClient.NewAddress(), NewUsername());
        await elsewhere.AssertOkAsync();
    }

    [Fact]
    public async Task Starting_a_registration_takes_no_token()
    {
        var address = ForwardedClient.NewAddress();
        for (var i = 0; i < TightRequestServer.RegistrationBurst + 2; i++)
        {
            using var challenge = await Client.SendFromAsync(address, HttpMethod.Post, $"{V3}/register", "{}");
            Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        }
        using var registered = await RegisterFromAsync(address, NewUsername());
        await registered.AssertOkAsync();
    }

    [Theory]
    [InlineData("/_matrix/client/v3/register/available?username=someone", TightRequestServer.AvailabilityBurst)]
    [InlineData("/_matrix/client/v1/register/m.login.registration_token/validity?token=abc", TightRequestServer.TokenValidityBurst)]
    [InlineData("/_matrix/client/v3/login", TightRequestServer.AddressRequestsBurst)]
    public async Task Unauthenticated_requests_per_address_stop_after_the_burst(string path, int burst)
    {
        var address = ForwardedClient.NewAddress();
        for (var i = 0; i < burst; i++)
        {
            using var allowed = await Client.SendFromAsync(address, HttpMethod.Get, path);
            await allowed.AssertOkAsync();
        }
        using var refused = await Client.SendFromAsync(address, HttpMethod.Get, path);
        await refused.AssertLimitExceededAsync();
    }

    private Task<HttpResponseMessage> RegisterFromAsync(string address, string username) =>
        Client.SendFromAsync(address, HttpMethod.Post, $"{V3}/register", Json(new { username, password = Password, auth = new { type = "m.login.dummy" } }));
}
