using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Invites by email through an identity server (a <see cref="FakeIdentityServer"/> over TLS): a bound address invites
/// its user; an unbound one stores the invite at the identity server and sends <c>m.room.third_party_invite</c>; once
/// bound, the identity server's signed proof (through <c>/3pid/onbind</c> or a join's <c>third_party_signed</c>)
/// invites the user, across servers through <c>exchange_third_party_invite</c>. Forged or mismatched proofs change
/// nothing.
/// </summary>
public abstract class ThirdPartyInviteTests<TPair>(TPair pair) : IAsyncLifetime where TPair : FederationPair
{
    private FakeIdentityServer _identity = null!;

    public async Task InitializeAsync() => _identity = await FakeIdentityServer.StartAsync(pair.Authority);

    public async Task DisposeAsync() => await _identity.DisposeAsync();

    [Fact]
    public async Task An_invite_by_a_bound_email_invites_its_user_after_a_hashed_lookup()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.A, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        _identity.Bind("email", "bob@example.org", bob.UserId);

        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("bob@example.org"));

        var member = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, bob.UserId);
        Assert.Equal("invite", member.GetProperty("membership").GetString());
        Assert.Equal(["sha256"], _identity.LookupAlgorithms);
        Assert.Empty(_identity.Invites);
    }

    [Fact]
    public async Task An_identity_server_offering_only_none_is_asked_with_the_plain_address()
    {
        await using var plain = await FakeIdentityServer.StartAsync(pair.Authority, sha256: false);
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.A, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        plain.Bind("email", "bob@example.org", bob.UserId);

        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("bob@example.org", plain.Name));

        Assert.Equal("invite", (await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, bob.UserId)).GetProperty("membership").GetString());
        Assert.Equal(["none"], plain.LookupAlgorithms);
    }

    [Fact]
    public async Task An_invite_by_an_unbound_email_stores_it_and_sends_the_third_party_invite_seen_in_sync()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Book club" });
        var since = (await alice.SyncAsync()).GetProperty("next_batch").GetString()!;

        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("carol@example.org"));

        var stored = Assert.Single(_identity.Invites);
        Assert.Equal(("email", "carol@example.org", roomId, alice.UserId), (stored.Medium, stored.Address, stored.RoomId, stored.Sender));
        Assert.Equal("Book club", stored.Request["room_name"]?.GetValue<string>());
        Assert.Equal("invite", stored.Request["room_join_rules"]?.GetValue<string>());

        var sync = await alice.SyncSinceAsync(since, "timeout=10000");
        var events = sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId).GetProperty("timeline").GetProperty("events").EnumerateArray();
        var invite = Assert.Single(events, e => e.GetProperty("type").GetString() == EventTypes.ThirdPartyInvite);
        Assert.Equal(stored.Token, invite.GetProperty("state_key").GetString());
        Assert.Equal(alice.UserId, invite.GetProperty("sender").GetString());
        var content = invite.GetProperty("content");
        Assert.Equal("c...@example.org", content.GetProperty("display_name").GetString());
        Assert.Equal(_identity.Key.PublicKeyBase64, content.GetProperty("public_key").GetString());
        Assert.Equal(_identity.KeyValidityUrl, content.GetProperty("key_validity_url").GetString());
        var key = Assert.Single(content.GetProperty("public_keys").EnumerateArray());
        Assert.Equal(_identity.Key.PublicKeyBase64, key.GetProperty("public_key").GetString());
    }

    [Fact]
    public async Task Once_bound_the_identity_server_tells_the_homeserver_and_the_user_is_invited_and_joins()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("carol@example.org"));
        var token = Assert.Single(_identity.Invites).Token;
        var carol = await UserAsync(pair.A, "carol");

        using var onBind = await _identity.BindAndNotifyAsync(pair.ClientFor(pair.A), "email", "carol@example.org", carol.UserId);
        Assert.Equal(HttpStatusCode.OK, onBind.StatusCode);

        var member = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, carol.UserId);
        Assert.Equal("invite", member.GetProperty("membership").GetString());
        var thirdPartyInvite = member.GetProperty("third_party_invite");
        Assert.Equal("c...@example.org", thirdPartyInvite.GetProperty("display_name").GetString());
        Assert.Equal(token, thirdPartyInvite.GetProperty("signed").GetProperty("token").GetString());

        await carol.Rooms.JoinAsync(roomId);
        Assert.Equal("join", (await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, carol.UserId)).GetProperty("membership").GetString());
    }

    [Fact]
    public async Task A_join_with_the_signed_proof_turns_the_third_party_invite_into_membership()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("dave@example.org"));
        var token = Assert.Single(_identity.Invites).Token;
        var dave = await UserAsync(pair.A, "dave");

        await dave.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/join",
            new JsonObject { ["third_party_signed"] = _identity.Sign(dave.UserId, token, sender: alice.UserId) });

        Assert.Equal("join", (await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, dave.UserId)).GetProperty("membership").GetString());
        var state = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state");
        var invite = await alice.Rooms.MessagesAsync(roomId, "dir=b&limit=5");
        Assert.Contains(invite.GetProperty("chunk").EnumerateArray(), e => e.GetProperty("type").GetString() == EventTypes.Member
            && e.GetProperty("state_key").GetString() == dave.UserId && e.GetProperty("content").GetProperty("membership").GetString() == "invite"
            && e.GetProperty("sender").GetString() == alice.UserId && e.GetProperty("content").TryGetProperty("third_party_invite", out _));
        Assert.Contains(state.EnumerateArray(), e => e.GetProperty("type").GetString() == EventTypes.ThirdPartyInvite);
    }

    [Fact]
    public async Task Forged_signatures_other_tokens_other_users_and_revoked_keys_are_refused_and_change_nothing()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("erin@example.org"));
        var token = Assert.Single(_identity.Invites).Token;
        var erin = await UserAsync(pair.A, "erin");
        var mallory = await UserAsync(pair.A, "mallory");
        var join = $"/rooms/{E(roomId)}/join";

        var forged = _identity.Sign(erin.UserId, token, sender: alice.UserId);
        forged["signatures"]![_identity.Name]!["ed25519:0"] = Convert.ToBase64String(new byte[64]).TrimEnd('=');
        await erin.Rooms.FailsAsync(HttpMethod.Post, join, new JsonObject { ["third_party_signed"] = forged }, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var otherToken = _identity.Sign(erin.UserId, "not-a-token", sender: alice.UserId);
        await erin.Rooms.FailsAsync(HttpMethod.Post, join, new JsonObject { ["third_party_signed"] = otherToken }, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        // Erin's proof presented by Mallory, and a proof for Mallory altered to name Erin.
        await mallory.Rooms.FailsAsync(HttpMethod.Post, join,
            new JsonObject { ["third_party_signed"] = _identity.Sign(erin.UserId, token, sender: alice.UserId) }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        var altered = _identity.Sign(mallory.UserId, token, sender: alice.UserId);
        altered["mxid"] = erin.UserId;
        await erin.Rooms.FailsAsync(HttpMethod.Post, join, new JsonObject { ["third_party_signed"] = altered }, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        var wrongSender = _identity.Sign(erin.UserId, token, sender: mallory.UserId);
        await erin.Rooms.FailsAsync(HttpMethod.Post, join, new JsonObject { ["third_party_signed"] = wrongSender }, HttpStatusCode.Forbidden, "M_FORBIDDEN");

        _identity.KeyRevoked = true;
        await erin.Rooms.FailsAsync(HttpMethod.Post, join,
            new JsonObject { ["third_party_signed"] = _identity.Sign(erin.UserId, token, sender: alice.UserId) }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        using (var onBind = await _identity.BindAndNotifyAsync(pair.ClientFor(pair.A), "email", "erin@example.org", erin.UserId))
            Assert.Equal(HttpStatusCode.OK, onBind.StatusCode);

        var state = await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state");
        Assert.DoesNotContain(state.EnumerateArray(), e => e.GetProperty("type").GetString() == EventTypes.Member
            && e.GetProperty("state_key").GetString() is var key && (key == erin.UserId || key == mallory.UserId));
    }

    [Fact]
    public async Task CreateRoom_invites_by_invite_3pid_once_the_room_exists()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.A, "bob");
        _identity.Bind("email", "bob@example.org", bob.UserId);

        await alice.Rooms.FailsAsync(HttpMethod.Post, "/createRoom",
            new { invite_3pid = new[] { new { id_server = _identity.Name, medium = "email", address = "bob@example.org" } } },
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        Assert.Empty(_identity.LookupAlgorithms);

        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "private_chat",
            invite_3pid = new[] { InviteByEmail("bob@example.org"), InviteByEmail("hana@example.org") },
        });

        Assert.Equal("invite", (await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, bob.UserId)).GetProperty("membership").GetString());
        var stored = Assert.Single(_identity.Invites);
        Assert.Equal(("hana@example.org", roomId), (stored.Address, stored.RoomId));
        var pending = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.ThirdPartyInvite, stored.Token);
        Assert.Equal("h...@example.org", pending.GetProperty("display_name").GetString());
    }

    [Fact]
    public async Task Missing_fields_are_refused_before_the_identity_server_is_asked()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync();
        var invite = $"/rooms/{E(roomId)}/invite";

        await alice.Rooms.FailsAsync(HttpMethod.Post, invite, new { id_server = _identity.Name, medium = "email", address = "x@example.org" },
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.Rooms.FailsAsync(HttpMethod.Post, invite, new { id_server = _identity.Name, id_access_token = FakeIdentityServer.AccessToken, medium = "email" },
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.Rooms.FailsAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/join",
            new JsonObject { ["third_party_signed"] = new JsonObject { ["mxid"] = alice.UserId, ["token"] = "t", ["signatures"] = new JsonObject() } },
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        Assert.Empty(_identity.LookupAlgorithms);
    }

    [Fact]
    public async Task An_unreachable_identity_server_or_a_refused_token_is_a_matrix_error_and_nothing_is_sent()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync();
        var invite = $"/rooms/{E(roomId)}/invite";
        var before = (await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state")).GetArrayLength();

        await _identity.DisposeAsync();
        await alice.Rooms.FailsAsync(HttpMethod.Post, invite, InviteByEmail("x@example.org"), HttpStatusCode.BadGateway, "M_UNKNOWN");
        _identity = await FakeIdentityServer.StartAsync(pair.Authority);
        await alice.Rooms.FailsAsync(HttpMethod.Post, invite,
            new { id_server = _identity.Name, id_access_token = "wrong", medium = "email", address = "x@example.org" }, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.Rooms.FailsAsync(HttpMethod.Post, invite, InviteByEmail("x@example.org", "not a host/"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        Assert.Equal(before, (await alice.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state")).GetArrayLength());
        Assert.Empty(_identity.Invites);
    }

    [Fact]
    public async Task Only_members_who_may_invite_store_third_party_invites()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.A, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new
        {
            preset = "public_chat",
            power_level_content_override = new { invite = 50 },
        });
        await bob.Rooms.FailsAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("x@example.org"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Empty(_identity.LookupAlgorithms);
        await bob.Rooms.JoinAsync(roomId);
        await bob.Rooms.FailsAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("x@example.org"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        Assert.Empty(_identity.Invites);
        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("x@example.org"));
        Assert.Single(_identity.Invites);
    }

    [Fact]
    public async Task A_user_of_B_bound_to_an_invited_email_is_invited_to_the_room_of_A_through_exchange_third_party_invite()
    {
        var alice = await UserAsync(pair.A, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Across" });
        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("frank@example.org"));
        var frank = await UserAsync(pair.B, "frank");
        var since = (await frank.SyncAsync()).GetProperty("next_batch").GetString()!;

        using var onBind = await _identity.BindAndNotifyAsync(pair.ClientFor(pair.B), "email", "frank@example.org", frank.UserId);
        Assert.Equal(HttpStatusCode.OK, onBind.StatusCode);

        var member = await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, frank.UserId);
        Assert.Equal("invite", member.GetProperty("membership").GetString());
        Assert.True(member.TryGetProperty("third_party_invite", out _));
        var sync = await frank.SyncSinceAsync(since, "timeout=10000");
        Assert.True(sync.GetProperty("rooms").GetProperty("invite").TryGetProperty(roomId, out _), $"no invite in {sync}");

        await frank.Rooms.OkAsync(HttpMethod.Post, $"/join/{E(roomId)}?server_name={E(pair.NameOfA)}", new { });
        Assert.Equal("join", (await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, frank.UserId)).GetProperty("membership").GetString());
    }

    [Fact]
    public async Task A_server_in_the_room_builds_the_invite_itself_when_its_user_binds_the_email()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.OkAsync(HttpMethod.Post, $"/join/{E(roomId)}?server_name={E(pair.NameOfA)}", new { });
        await alice.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("gina@example.org"));
        var gina = await UserAsync(pair.B, "gina");
        // B holds the room's state, the m.room.third_party_invite included, before the identity server calls.
        await WaitForAsync(async () => (await bob.Rooms.RequestAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state")).StatusCode == HttpStatusCode.OK
            && (await bob.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state")).EnumerateArray().Any(e => e.GetProperty("type").GetString() == EventTypes.ThirdPartyInvite));

        using var onBind = await _identity.BindAndNotifyAsync(pair.ClientFor(pair.B), "email", "gina@example.org", gina.UserId);
        Assert.Equal(HttpStatusCode.OK, onBind.StatusCode);

        // Built and signed by B (the inviter's server need not sign a third-party invite), accepted by A's auth rules.
        Assert.Equal("invite", (await bob.Rooms.GetStateEventAsync(roomId, EventTypes.Member, gina.UserId)).GetProperty("membership").GetString());
        await WaitForAsync(async () => (await alice.Rooms.RequestAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state/{EventTypes.Member}/{E(gina.UserId)}")).StatusCode == HttpStatusCode.OK);
        await gina.Rooms.JoinAsync(roomId);
        await WaitForAsync(async () => (await alice.Rooms.GetStateEventAsync(roomId, EventTypes.Member, gina.UserId)).GetProperty("membership").GetString() == "join");
    }

    [Fact]
    public async Task An_exchange_from_another_server_with_a_forged_or_mismatched_proof_is_refused()
    {
        var bob = await UserAsync(pair.B, "bob");
        var roomId = await bob.Rooms.CreateRoomAsync(new { preset = "private_chat" });
        await bob.Rooms.OkAsync(HttpMethod.Post, $"/rooms/{E(roomId)}/invite", InviteByEmail("ivy@example.org"));
        var token = Assert.Single(_identity.Invites).Token;
        var ivy = pair.RemoteUser("ivy");

        async Task<HomeServer.Grains.Federation.Transport.FederationResponse> ExchangeAsync(string sender, string target, JsonObject signed) =>
            await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/exchange_third_party_invite/{E(roomId)}",
                new JsonObject
                {
                    ["type"] = EventTypes.Member, ["room_id"] = roomId, ["sender"] = sender, ["state_key"] = target,
                    ["content"] = new JsonObject { ["membership"] = "invite", ["third_party_invite"] = new JsonObject { ["signed"] = signed } },
                }, CancellationToken.None);

        var forged = _identity.Sign(ivy, token);
        forged["signatures"]![_identity.Name]!["ed25519:0"] = Convert.ToBase64String(new byte[64]).TrimEnd('=');
        Assert.Equal(HttpStatusCode.Forbidden, (await ExchangeAsync(bob.UserId, ivy, forged)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ExchangeAsync(bob.UserId, ivy, _identity.Sign(pair.RemoteUser("other"), token))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ExchangeAsync(bob.UserId, ivy, _identity.Sign(ivy, "unknown"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ExchangeAsync(pair.RemoteUser("mallory"), ivy, _identity.Sign(ivy, token))).StatusCode);
        var noSigned = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/exchange_third_party_invite/{E(roomId)}",
            new JsonObject { ["type"] = EventTypes.Member, ["room_id"] = roomId, ["sender"] = bob.UserId, ["state_key"] = ivy, ["content"] = new JsonObject { ["membership"] = "invite" } },
            CancellationToken.None);
        Assert.Equal(HttpStatusCode.BadRequest, noSigned.StatusCode);

        var state = await bob.Rooms.OkAsync(HttpMethod.Get, $"/rooms/{E(roomId)}/state");
        Assert.DoesNotContain(state.EnumerateArray(), e => e.GetProperty("type").GetString() == EventTypes.Member && e.GetProperty("state_key").GetString() == ivy);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(100);
        }
    }

    private object InviteByEmail(string address, string? idServer = null) =>
        new { id_server = idServer ?? _identity.Name, id_access_token = FakeIdentityServer.AccessToken, medium = "email", address };

    private static string E(string value) => RoomsClient.Escape(value);

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, $"{name}-{Guid.NewGuid().ToString("N")[..6]}");
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }
}

public sealed class SqliteThirdPartyInviteTests(SqliteFederationPair pair)
    : ThirdPartyInviteTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresThirdPartyInviteTests(PostgresFederationPair pair)
    : ThirdPartyInviteTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
