using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Invites of local users to rooms of other servers, and their rejections, at positions of the account-data stream.</summary>
public abstract class RemoteInviteStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string RemoteRoom = "!room:remote.example";

    private static RemoteInvite Invite(string eventId, string userId = Alice) =>
        new(userId, RemoteRoom, eventId, "10", "invite", """{"type":"m.room.member","unsigned":{"invite_room_state":[]}}"""u8.ToArray(), null, 0);

    [Fact]
    public async Task An_invite_takes_the_next_account_data_position_once_and_survives_reopening()
    {
        var before = await Store.AccountData.GetMaxStreamPositionAsync(Ct);

        var position = await Store.RemoteInvites.SaveInviteAsync(Invite("$invite"), Ct);
        Assert.Equal(before + 1, position);
        Assert.Equal(position, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
        // The same invite again (a retried request) keeps its position: /sync shows it once.
        Assert.Equal(position, await Store.RemoteInvites.SaveInviteAsync(Invite("$invite"), Ct));
        Assert.Equal(position, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
        await ReopenAsync();

        var stored = await Store.RemoteInvites.GetAsync(Alice, RemoteRoom, Ct);
        Assert.NotNull(stored);
        Assert.Equal(("$invite", "10", "invite", position, (byte[]?)null), (stored.EventId, stored.RoomVersion, stored.Membership, stored.StreamPosition, stored.LeaveEvent));
        Assert.Equal(Invite("$invite").InviteEvent, stored.InviteEvent);
        Assert.Equal([stored.EventId], (await Store.RemoteInvites.GetOfUserAsync(Alice, before, position, Ct)).Select(i => i.EventId));
        Assert.Empty(await Store.RemoteInvites.GetOfUserAsync(Alice, position, position + 10, Ct));
        Assert.Empty(await Store.RemoteInvites.GetOfUserAsync(Bob, 0, position, Ct));
    }

    [Fact]
    public async Task A_rejection_of_the_pending_invite_moves_it_to_a_new_position_and_a_stale_one_changes_nothing()
    {
        var invited = await Store.RemoteInvites.SaveInviteAsync(Invite("$invite"), Ct);
        var leave = """{"type":"m.room.member","content":{"membership":"leave"}}"""u8.ToArray();

        Assert.Null(await Store.RemoteInvites.SaveRejectionAsync(Alice, RemoteRoom, "$another", leave, Ct));
        var rejected = await Store.RemoteInvites.SaveRejectionAsync(Alice, RemoteRoom, "$invite", leave, Ct);

        Assert.True(rejected > invited);
        var stored = (await Store.RemoteInvites.GetAsync(Alice, RemoteRoom, Ct))!;
        Assert.Equal(("leave", rejected!.Value), (stored.Membership, stored.StreamPosition));
        Assert.Equal(leave, stored.LeaveEvent);
        Assert.Null(await Store.RemoteInvites.SaveRejectionAsync(Alice, RemoteRoom, "$invite", leave, Ct));
        Assert.Empty(await Store.RemoteInvites.GetOfUserAsync(Alice, rejected.Value, long.MaxValue, Ct));

        // A new invite to the same room replaces the rejection.
        var again = await Store.RemoteInvites.SaveInviteAsync(Invite("$second"), Ct);
        stored = (await Store.RemoteInvites.GetAsync(Alice, RemoteRoom, Ct))!;
        Assert.Equal(("$second", "invite", again, (byte[]?)null), (stored.EventId, stored.Membership, stored.StreamPosition, stored.LeaveEvent));
    }

    [Fact]
    public async Task A_knock_is_kept_as_knock_replaced_by_an_invite_and_can_be_rescinded()
    {
        var knock = Invite("$knock") with { Membership = "knock" };
        var knocked = await Store.RemoteInvites.SaveInviteAsync(knock, Ct);
        Assert.Equal(knocked, await Store.RemoteInvites.SaveInviteAsync(knock, Ct));
        var stored = (await Store.RemoteInvites.GetAsync(Alice, RemoteRoom, Ct))!;
        Assert.Equal(("$knock", "knock", knocked), (stored.EventId, stored.Membership, stored.StreamPosition));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.RemoteInvites.SaveInviteAsync(Invite("$odd") with { Membership = "ban" }, Ct));

        // Rescinded: the knock becomes a leave at a new position.
        var leave = """{"type":"m.room.member","content":{"membership":"leave"}}"""u8.ToArray();
        var rescinded = await Store.RemoteInvites.SaveRejectionAsync(Alice, RemoteRoom, "$knock", leave, Ct);
        Assert.True(rescinded > knocked);
        Assert.Equal("leave", (await Store.RemoteInvites.GetAsync(Alice, RemoteRoom, Ct))!.Membership);

        // Knocked again, then invited: the invite replaces the knock at a newer position.
        var again = await Store.RemoteInvites.SaveInviteAsync(Invite("$knock2") with { Membership = "knock" }, Ct);
        var invited = await Store.RemoteInvites.SaveInviteAsync(Invite("$invite"), Ct);
        Assert.True(invited > again);
        stored = (await Store.RemoteInvites.GetAsync(Alice, RemoteRoom, Ct))!;
        Assert.Equal(("$invite", "invite"), (stored.EventId, stored.Membership));
        Assert.Equal(["$invite"], (await Store.RemoteInvites.GetOfUserAsync(Alice, again, invited, Ct)).Select(i => i.EventId));
    }
}
