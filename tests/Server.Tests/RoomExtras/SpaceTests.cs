using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.RoomExtras;

/// <summary>
/// Spaces and previews: GET /_matrix/client/v1/rooms/{roomId}/hierarchy (space_hierarchy.yaml) and
/// GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (room_summary.yaml).
/// </summary>
public abstract class SpaceTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    private sealed record Tree(string Space, string Public, string InviteOnly, string WorldReadable, string SubSpace, string Deep, string Restricted);

    /// <summary>
    /// space ─┬─ public        (order "a", suggested)
    ///        ├─ worldReadable (order "b")
    ///        ├─ subSpace      (order "c", suggested) ── deep
    ///        ├─ inviteOnly    (no order)
    ///        └─ restricted    (no order; restricted to members of the space)
    /// </summary>
    private static async Task<Tree> BuildTreeAsync(RoomsClient owner)
    {
        var space = await owner.CreateRoomAsync(new { preset = "public_chat", name = "Space", creation_content = new { type = "m.space" } });
        var publicRoom = await owner.CreateRoomAsync(new { preset = "public_chat", name = "Public" });
        var inviteOnly = await owner.CreateRoomAsync(new { name = "Invite only" });
        var worldReadable = await owner.CreateRoomAsync(new
        {
            name = "Readable",
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = (object)new { history_visibility = "world_readable" } } },
        });
        var subSpace = await owner.CreateRoomAsync(new { preset = "public_chat", name = "Sub", creation_content = new { type = "m.space" } });
        var deep = await owner.CreateRoomAsync(new { preset = "public_chat", name = "Deep" });
        var restricted = await owner.CreateRoomAsync(new
        {
            name = "Restricted",
            initial_state = new[]
            {
                new { type = "m.room.join_rules", state_key = "", content = (object)new { join_rule = "restricted", allow = new[] { new { type = "m.room_membership", room_id = space } } } },
            },
        });
        await AddChildAsync(owner, space, publicRoom, order: "a", suggested: true);
        await AddChildAsync(owner, space, worldReadable, order: "b");
        await AddChildAsync(owner, space, subSpace, order: "c", suggested: true);
        await AddChildAsync(owner, space, inviteOnly);
        await AddChildAsync(owner, space, restricted);
        await AddChildAsync(owner, subSpace, deep);
        // A child whose via is empty is not a child (m.space.child), so the room it names is neither listed nor walked.
        var removed = await owner.CreateRoomAsync(new { preset = "public_chat" });
        await owner.SetStateAsync(space, "m.space.child", new { via = Array.Empty<string>() }, removed);
        return new Tree(space, publicRoom, inviteOnly, worldReadable, subSpace, deep, restricted);
    }

    private static Task AddChildAsync(RoomsClient owner, string parent, string child, string? order = null, bool suggested = false) =>
        owner.SetStateAsync(parent, "m.space.child",
            order is null ? new { via = new[] { "localhost" }, suggested } : new { via = new[] { "localhost" }, order, suggested }, child);

    private Task<JsonElement> HierarchyAsync(RoomsClient user, string roomId, string query = "") =>
        ClientV1.OkAsync(Server.Client, user, $"/rooms/{E(roomId)}/hierarchy" + (query.Length == 0 ? "" : "?" + query));

    private static string[] RoomIds(JsonElement response) =>
        response.GetProperty("rooms").EnumerateArray().Select(r => r.GetProperty("room_id").GetString()!).ToArray();

    [Fact]
    public async Task The_hierarchy_walks_depth_first_in_child_order_and_lists_only_rooms_the_user_may_preview()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var tree = await BuildTreeAsync(alice);

        // Bob is in no room: he sees what anyone may see; the invite-only and the restricted room stay hidden.
        var forBob = await HierarchyAsync(bob, tree.Space);
        Assert.Equal([tree.Space, tree.Public, tree.WorldReadable, tree.SubSpace, tree.Deep], RoomIds(forBob));
        Assert.False(forBob.TryGetProperty("next_batch", out _));

        var space = forBob.GetProperty("rooms")[0];
        Assert.Equal("Space", space.GetProperty("name").GetString());
        Assert.Equal("m.space", space.GetProperty("room_type").GetString());
        Assert.Equal("public", space.GetProperty("join_rule").GetString());
        Assert.Equal(1, space.GetProperty("num_joined_members").GetInt32());
        Assert.False(space.GetProperty("world_readable").GetBoolean());
        Assert.Equal("10", space.GetProperty("room_version").GetString());
        // children_state holds every child of the space (also those hidden from Bob), as stripped state with origin_server_ts.
        var children = space.GetProperty("children_state").EnumerateArray().ToList();
        Assert.Equal(
            new[] { tree.Public, tree.InviteOnly, tree.WorldReadable, tree.SubSpace, tree.Restricted }.Order(StringComparer.Ordinal),
            children.Select(c => c.GetProperty("state_key").GetString()!).Order(StringComparer.Ordinal));
        var first = children.Single(c => c.GetProperty("state_key").GetString() == tree.Public);
        Assert.Equal("m.space.child", first.GetProperty("type").GetString());
        Assert.Equal(alice.UserId, first.GetProperty("sender").GetString());
        Assert.True(first.GetProperty("origin_server_ts").GetInt64() > 0);
        Assert.Equal("a", first.GetProperty("content").GetProperty("order").GetString());
        Assert.False(first.TryGetProperty("event_id", out _));
        Assert.True(forBob.GetProperty("rooms")[2].GetProperty("world_readable").GetBoolean());
        Assert.Empty(forBob.GetProperty("rooms")[1].GetProperty("children_state").EnumerateArray());

        // Once in the space, Bob meets the restricted room's rule; invited, he may preview the invite-only room.
        await bob.JoinAsync(tree.Space);
        await alice.InviteAsync(tree.InviteOnly, bob.UserId);
        var joined = await HierarchyAsync(bob, tree.Space);
        Assert.Equal([tree.Space, tree.Public, tree.WorldReadable, tree.SubSpace, tree.Deep, tree.InviteOnly, tree.Restricted], RoomIds(joined));
        var restricted = joined.GetProperty("rooms")[6];
        Assert.Equal("restricted", restricted.GetProperty("join_rule").GetString());
        Assert.Equal([tree.Space], restricted.GetProperty("allowed_room_ids").EnumerateArray().Select(r => r.GetString()!).ToArray());
    }

    [Fact]
    public async Task Max_depth_and_suggested_only_limit_the_walk()
    {
        var alice = await UserAsync("alice");
        var tree = await BuildTreeAsync(alice);

        Assert.Equal([tree.Space], RoomIds(await HierarchyAsync(alice, tree.Space, "max_depth=0")));
        Assert.Equal([tree.Space, tree.Public, tree.WorldReadable, tree.SubSpace, tree.InviteOnly, tree.Restricted],
            RoomIds(await HierarchyAsync(alice, tree.Space, "max_depth=1")));
        // Only suggested children are followed; the root is always listed, and the sub-space's unsuggested child is not.
        Assert.Equal([tree.Space, tree.Public, tree.SubSpace], RoomIds(await HierarchyAsync(alice, tree.Space, "suggested_only=true")));
        // A hierarchy can start anywhere in the tree.
        Assert.Equal([tree.SubSpace, tree.Deep], RoomIds(await HierarchyAsync(alice, tree.SubSpace)));
    }

    [Fact]
    public async Task Pages_follow_next_batch_without_repeats_and_keep_their_settings()
    {
        var alice = await UserAsync("alice");
        var tree = await BuildTreeAsync(alice);
        var all = RoomIds(await HierarchyAsync(alice, tree.Space));
        Assert.Equal(7, all.Length);

        var collected = new List<string>();
        string? from = null;
        var pages = 0;
        do
        {
            var page = await HierarchyAsync(alice, tree.Space, "limit=3" + (from is null ? "" : "&from=" + E(from)));
            var ids = RoomIds(page);
            Assert.InRange(ids.Length, 1, 3);
            collected.AddRange(ids);
            from = page.TryGetProperty("next_batch", out var next) ? next.GetString() : null;
            pages++;
        }
        while (from is not null);
        Assert.Equal(3, pages);
        Assert.Equal(all, collected);

        var token = (await HierarchyAsync(alice, tree.Space, "limit=2&max_depth=1")).GetProperty("next_batch").GetString()!;
        await ClientV1.FailsAsync(Server.Client, alice, $"/rooms/{E(tree.Space)}/hierarchy?from={E(token)}", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await ClientV1.FailsAsync(Server.Client, alice, $"/rooms/{E(tree.Space)}/hierarchy?max_depth=1&suggested_only=true&from={E(token)}",
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        Assert.Equal(all.Skip(2).Take(2), RoomIds(await HierarchyAsync(alice, tree.Space, $"limit=2&max_depth=1&from={E(token)}")));
    }

    [Fact]
    public async Task A_room_the_user_may_not_preview_and_bad_parameters_are_refused()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var tree = await BuildTreeAsync(alice);
        var path = $"/rooms/{E(tree.Space)}/hierarchy";

        await ClientV1.FailsAsync(Server.Client, bob, $"/rooms/{E(tree.InviteOnly)}/hierarchy", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await ClientV1.FailsAsync(Server.Client, bob, $"/rooms/{E("!unknown:localhost")}/hierarchy", HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await ClientV1.FailsAsync(Server.Client, bob, "/rooms/not-a-room/hierarchy", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        foreach (var bad in new[] { "limit=0", "limit=-1", "limit=x", "max_depth=-1", "max_depth=1.5", "suggested_only=yes", "from=garbage", "from=1_2" })
            await ClientV1.FailsAsync(Server.Client, bob, $"{path}?{bad}", HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await ClientV1.FailsAsync(Server.Client, null, path, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    private Task<JsonElement> SummaryAsync(RoomsClient? user, string roomIdOrAlias) =>
        ClientV1.OkAsync(Server.Client, user, $"/room_summary/{E(roomIdOrAlias)}");

    [Fact]
    public async Task Room_summaries_describe_rooms_to_those_who_may_preview_them()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var roomId = await alice.CreateRoomAsync(new
        {
            preset = "public_chat",
            name = "Cheese",
            topic = "Tasty",
            room_alias_name = "cheese-" + Guid.NewGuid().ToString("N")[..8],
            initial_state = new[] { new { type = "m.room.encryption", state_key = "", content = (object)new { algorithm = "m.megolm.v1.aes-sha2" } } },
        });
        var alias = (await alice.GetStateEventAsync(roomId, "m.room.canonical_alias")).GetProperty("alias").GetString()!;

        var forAlice = await SummaryAsync(alice, roomId);
        Assert.Equal(roomId, forAlice.GetProperty("room_id").GetString());
        Assert.Equal("Cheese", forAlice.GetProperty("name").GetString());
        Assert.Equal("Tasty", forAlice.GetProperty("topic").GetString());
        Assert.Equal(alias, forAlice.GetProperty("canonical_alias").GetString());
        Assert.Equal(1, forAlice.GetProperty("num_joined_members").GetInt32());
        Assert.Equal("public", forAlice.GetProperty("join_rule").GetString());
        Assert.Equal("m.megolm.v1.aes-sha2", forAlice.GetProperty("encryption").GetString());
        Assert.Equal("10", forAlice.GetProperty("room_version").GetString());
        Assert.False(forAlice.GetProperty("guest_can_join").GetBoolean());
        Assert.False(forAlice.GetProperty("world_readable").GetBoolean());
        Assert.Equal("join", forAlice.GetProperty("membership").GetString());
        Assert.False(forAlice.TryGetProperty("children_state", out _));

        Assert.Equal("leave", (await SummaryAsync(bob, roomId)).GetProperty("membership").GetString());
        Assert.Equal(roomId, (await SummaryAsync(bob, alias)).GetProperty("room_id").GetString());
        // Anonymous callers may preview a public room; they have no membership.
        var anonymous = await SummaryAsync(null, alias);
        Assert.Equal("Cheese", anonymous.GetProperty("name").GetString());
        Assert.False(anonymous.TryGetProperty("membership", out _));
    }

    [Fact]
    public async Task Room_summaries_of_private_rooms_are_not_found_for_outsiders()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var carol = await UserAsync("carol");
        var privateRoom = await alice.CreateRoomAsync(new { name = "Secret" });
        var readable = await alice.CreateRoomAsync(new
        {
            initial_state = new[] { new { type = "m.room.history_visibility", state_key = "", content = (object)new { history_visibility = "world_readable" } } },
        });

        await ClientV1.FailsAsync(Server.Client, bob, $"/room_summary/{E(privateRoom)}", HttpStatusCode.NotFound, "M_NOT_FOUND");
        await ClientV1.FailsAsync(Server.Client, null, $"/room_summary/{E(privateRoom)}", HttpStatusCode.NotFound, "M_NOT_FOUND");
        await ClientV1.FailsAsync(Server.Client, bob, $"/room_summary/{E("!unknown:localhost")}", HttpStatusCode.NotFound, "M_NOT_FOUND");
        await ClientV1.FailsAsync(Server.Client, bob, $"/room_summary/{E("#unknown:localhost")}", HttpStatusCode.NotFound, "M_NOT_FOUND");
        await ClientV1.FailsAsync(Server.Client, bob, "/room_summary/garbage", HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        await alice.InviteAsync(privateRoom, bob.UserId);
        var invited = await SummaryAsync(bob, privateRoom);
        Assert.Equal("invite", invited.GetProperty("membership").GetString());
        Assert.Equal("Secret", invited.GetProperty("name").GetString());
        Assert.Equal("invite", invited.GetProperty("join_rule").GetString());
        await ClientV1.FailsAsync(Server.Client, carol, $"/room_summary/{E(privateRoom)}", HttpStatusCode.NotFound, "M_NOT_FOUND");

        // World-readable history makes a room previewable by anyone, also anonymously.
        Assert.True((await SummaryAsync(carol, readable)).GetProperty("world_readable").GetBoolean());
        Assert.True((await SummaryAsync(null, readable)).GetProperty("world_readable").GetBoolean());
        var (status, body) = await ClientV1.SendAsync(Server.Client, null, HttpMethod.Get, $"/room_summary/{E(readable)}?access_token=wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("M_UNKNOWN_TOKEN", body.GetProperty("errcode").GetString());
    }
}

public sealed class SqliteSpaceTests(SqliteServerFixture fixture) : SpaceTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresSpaceTests(PostgresServerFixture fixture) : SpaceTests(fixture), IClassFixture<PostgresServerFixture>;
