using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class PresenceTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string Dave = "@dave:test";

    private Task<long> SetAsync(string user, string presence, string? status = null, long lastActive = 1_000) =>
        Store.Presence.SetPresenceAsync(new NewPresence(user, presence, status, lastActive), Ct);

    /// <summary>Alice and Bob in room A, Bob and Carol in room B, Dave invited to A only.</summary>
    private async Task SeedRoomsAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
        await AppendStateAsync(RoomA, TestEvents.Member("$a1", Alice, "join"), TestEvents.Member("$a2", Bob, "join"),
            TestEvents.Member("$a3", Dave, "invite", Alice));
        await AppendStateAsync(RoomB, TestEvents.Member("$b1", Bob, "join"), TestEvents.Member("$b2", Carol, "join"));
    }

    [Fact]
    public async Task Presence_reads_back_and_each_change_takes_the_next_position()
    {
        Assert.Equal(0, await Store.Presence.GetMaxStreamPositionAsync(Ct));
        Assert.Null(await Store.Presence.GetPresenceAsync(Alice, Ct));

        var first = await SetAsync(Alice, "online", "at lunch", 5_000);
        var second = await SetAsync(Alice, "unavailable", null, 6_000);
        var bob = await SetAsync(Bob, "offline", "gone – für immer 🌙");

        Assert.True(second > first && bob > second);
        Assert.Equal(new StoredPresence(Alice, "unavailable", null, 6_000, second), await Store.Presence.GetPresenceAsync(Alice, Ct));
        Assert.Equal("gone – für immer 🌙", (await Store.Presence.GetPresenceAsync(Bob, Ct))!.StatusMessage);
        Assert.Equal(bob, await Store.Presence.GetMaxStreamPositionAsync(Ct));
        Assert.Equal([Alice, Bob], (await Store.Presence.GetPresenceAsync([Alice, Bob, Carol], Ct)).Select(p => p.UserId).Order());
        Assert.Empty(await Store.Presence.GetPresenceAsync([], Ct));
    }

    [Fact]
    public async Task Several_users_presence_is_stored_at_once_at_consecutive_positions()
    {
        var before = await SetAsync(Alice, "offline");
        // 250 users: more than one statement's worth of rows.
        var users = Enumerable.Range(0, 250).Select(i => $"@user{i}:test").Prepend(Alice).ToList();

        var positions = await Store.Presence.SetPresencesAsync(
            users.Select((user, i) => new NewPresence(user, "online", i == 0 ? "back" : null, 2_000 + i)).ToList(), Ct);

        Assert.Equal(Enumerable.Range(1, users.Count).Select(i => before + i), positions);
        Assert.Equal(positions[^1], await Store.Presence.GetMaxStreamPositionAsync(Ct));
        Assert.Equal(new StoredPresence(Alice, "online", "back", 2_000, before + 1), await Store.Presence.GetPresenceAsync(Alice, Ct));
        Assert.Equal(new StoredPresence("@user249:test", "online", null, 2_250, positions[^1]), await Store.Presence.GetPresenceAsync("@user249:test", Ct));
    }

    [Fact]
    public async Task A_batch_with_a_bad_or_repeated_entry_stores_nothing()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Presence.SetPresencesAsync(
            [new NewPresence(Alice, "online", null, 1), new NewPresence(Bob, "busy", null, 1)], Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Presence.SetPresencesAsync(
            [new NewPresence(Alice, "online", null, 1), new NewPresence(Alice, "offline", null, 2)], Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.Presence.SetPresencesAsync([], Ct));
        Assert.Equal(0, await Store.Presence.GetMaxStreamPositionAsync(Ct));
        Assert.Null(await Store.Presence.GetPresenceAsync(Alice, Ct));
    }

    [Fact]
    public async Task Presence_survives_reopening_the_store()
    {
        await SetAsync(Alice, "online", "back soon", 7_000);
        await ReopenAsync();
        var stored = await Store.Presence.GetPresenceAsync(Alice, Ct);
        Assert.Equal(("online", "back soon", 7_000L), (stored!.Presence, stored.StatusMessage, stored.LastActiveTs));
    }

    [Fact]
    public async Task Peer_changes_cover_the_user_and_joined_members_of_its_joined_rooms_only()
    {
        await SeedRoomsAsync();
        var since = await SetAsync(Bob, "online");
        await SetAsync(Carol, "online");
        await SetAsync(Dave, "online");
        var alice = await SetAsync(Alice, "online");
        var bob = await SetAsync(Bob, "unavailable", "busy");

        // Alice shares room A with Bob only: Carol is in B, Dave is only invited.
        Assert.Equal([(Alice, alice), (Bob, bob)],
            (await Store.Presence.GetPeerPresenceChangesAsync(Alice, since, bob, Ct)).Select(p => (p.UserId, p.StreamPosition)));
        // Bob shares a room with everyone joined, Carol included; the upper bound is respected.
        Assert.Equal([Carol, Alice],
            (await Store.Presence.GetPeerPresenceChangesAsync(Bob, 0, alice, Ct)).Select(p => p.UserId));
        Assert.Empty(await Store.Presence.GetPeerPresenceChangesAsync(Alice, bob, bob, Ct));
        // A user in no room sees its own changes only.
        Assert.Equal([Dave], (await Store.Presence.GetPeerPresenceChangesAsync(Dave, 0, bob, Ct)).Select(p => p.UserId));
    }

    [Fact]
    public async Task Room_peers_and_room_members_follow_current_membership()
    {
        await SeedRoomsAsync();
        await SetAsync(Alice, "online");
        await SetAsync(Carol, "online");
        await SetAsync(Dave, "online");

        Assert.Equal([Alice, Bob, Carol], await Store.Presence.GetRoomPeersAsync(Bob, Ct));
        Assert.Equal([Alice, Bob], await Store.Presence.GetRoomPeersAsync(Alice, Ct));
        Assert.Empty(await Store.Presence.GetRoomPeersAsync(Dave, Ct));
        Assert.Equal([Alice], (await Store.Presence.GetPresenceOfRoomMembersAsync([RoomA], Ct)).Select(p => p.UserId));

        await AppendStateAsync(RoomA, TestEvents.Member("$a4", Bob, "leave"));

        Assert.Equal([Alice], await Store.Presence.GetRoomPeersAsync(Alice, Ct));
        Assert.Equal([Bob, Carol], await Store.Presence.GetRoomPeersAsync(Bob, Ct));
        Assert.Equal([Alice, Carol], (await Store.Presence.GetPresenceOfRoomMembersAsync([RoomA, RoomB], Ct)).Select(p => p.UserId).Order());
    }

    [Fact]
    public async Task Room_peers_of_several_users_are_the_union_of_each_users_peers()
    {
        await SeedRoomsAsync();

        Assert.Equal([Alice, Bob, Carol], (await Store.Presence.GetRoomPeersOfUsersAsync([Alice, Carol], Ct)).Order());
        Assert.Equal((await Store.Presence.GetRoomPeersAsync(Bob, Ct)).Order(), (await Store.Presence.GetRoomPeersOfUsersAsync([Bob], Ct)).Order());
        Assert.Empty(await Store.Presence.GetRoomPeersOfUsersAsync([Dave], Ct));
        Assert.Empty(await Store.Presence.GetRoomPeersOfUsersAsync([], Ct));
    }

    [Fact]
    public async Task Bad_presence_is_refused_before_any_write()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SetAsync(Alice, "busy"));
        await Assert.ThrowsAsync<ArgumentException>(() => SetAsync(Alice, "online", new string('x', StoreLimits.MaxStatusMessageBytes + 1)));
        await Assert.ThrowsAsync<ArgumentException>(() => SetAsync("", "online"));
        Assert.Equal(0, await Store.Presence.GetMaxStreamPositionAsync(Ct));
        Assert.Null(await Store.Presence.GetPresenceAsync(Alice, Ct));
    }
}
