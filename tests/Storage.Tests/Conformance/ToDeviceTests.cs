using System.Text;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class ToDeviceTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    /// <summary>Alice with PHONE and LAPTOP, Bob with TABLET, Carol with no device.</summary>
    protected override async Task SeedAsync()
    {
        foreach (var user in new[] { Alice, Bob, Carol }) await CreateAccountAsync(user);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "PHONE", "t-phone", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "LAPTOP", "t-laptop", 1), Ct);
        await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Bob, "TABLET", "t-tablet", 1), Ct);
    }

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);

    private static ToDeviceRecipient To(string user, string? device, string body = "{\"n\":1}") => new(user, device, Json(body));

    private Task<ToDeviceEnqueueResult> SendAsync(string txn, params ToDeviceRecipient[] messages) =>
        Store.ToDevice.EnqueueAsync(new NewToDeviceSend(Bob, "TABLET", txn, "m.test", messages, 1_000), Ct);

    private Task<IReadOnlyList<ToDeviceMessage>> ReadAsync(string user, string device, long after = 0, long upTo = long.MaxValue, int limit = 100) =>
        Store.ToDevice.GetMessagesAsync(user, device, after, upTo, limit, Ct);

    [Fact]
    public async Task A_send_reaches_exactly_the_addressed_devices_at_one_position()
    {
        Assert.Equal(0, await Store.ToDevice.GetMaxStreamPositionAsync(Ct));
        var sent = await SendAsync("t1", To(Alice, "PHONE", "{\"secret\":\"ü 🔑\"}"));

        Assert.Equal((false, 1), (sent.Duplicate, sent.Stored));
        Assert.Equal(sent.Position, await Store.ToDevice.GetMaxStreamPositionAsync(Ct));
        var message = Assert.Single(await ReadAsync(Alice, "PHONE"));
        Assert.Equal((sent.Position, Bob, "m.test", "{\"secret\":\"ü 🔑\"}"),
            (message.StreamPosition, message.Sender, message.EventType, Encoding.UTF8.GetString(message.Content)));
        Assert.Empty(await ReadAsync(Alice, "LAPTOP"));
        Assert.Empty(await ReadAsync(Bob, "TABLET"));
    }

    [Fact]
    public async Task All_devices_means_the_current_ones_and_a_device_named_too_gets_its_own_message()
    {
        var sent = await SendAsync("t1", To(Alice, null, "{\"to\":\"all\"}"), To(Alice, "LAPTOP", "{\"to\":\"laptop\"}"), To(Bob, null));

        Assert.Equal(3, sent.Stored);
        Assert.Equal("{\"to\":\"all\"}", Encoding.UTF8.GetString(Assert.Single(await ReadAsync(Alice, "PHONE")).Content));
        Assert.Equal("{\"to\":\"laptop\"}", Encoding.UTF8.GetString(Assert.Single(await ReadAsync(Alice, "LAPTOP")).Content));
        Assert.Single(await ReadAsync(Bob, "TABLET"));
    }

    [Fact]
    public async Task A_send_to_more_devices_than_one_statement_holds_reaches_each_once()
    {
        for (var i = 0; i < 600; i++) await Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Carol, $"D{i}", $"t-carol-{i}", 1), Ct);
        var messages = Enumerable.Range(0, 600).Select(i => To(Carol, $"D{i}", $"{{\"i\":{i}}}")).Append(To(Carol, null, "{\"to\":\"all\"}")).ToArray();

        var sent = await SendAsync("t1", messages);

        Assert.Equal(600, sent.Stored);
        for (var i = 0; i < 600; i += 97)
            Assert.Equal($"{{\"i\":{i}}}", Encoding.UTF8.GetString(Assert.Single(await ReadAsync(Carol, $"D{i}")).Content));
        Assert.Equal(600, await CountRowsAsync("device_inbox"));
    }

    [Fact]
    public async Task Unknown_users_and_devices_are_dropped()
    {
        var sent = await SendAsync("t1", To(Alice, "NOPE"), To(Carol, null), To("@nobody:test", null), To("@dave:test", "X"));

        Assert.Equal((false, 0), (sent.Duplicate, sent.Stored));
        Assert.Equal(0, await CountRowsAsync("device_inbox"));
        Assert.Empty(await ReadAsync(Alice, "NOPE"));
    }

    [Fact]
    public async Task A_retried_transaction_id_stores_nothing_again()
    {
        var first = await SendAsync("t1", To(Alice, "PHONE"));
        var again = await SendAsync("t1", To(Alice, "PHONE"), To(Alice, "LAPTOP"));

        Assert.Equal((first.Position, true, 0), (again.Position, again.Duplicate, again.Stored));
        Assert.Single(await ReadAsync(Alice, "PHONE"));
        Assert.Empty(await ReadAsync(Alice, "LAPTOP"));
        Assert.Equal(first.Position, await Store.ToDevice.GetMaxStreamPositionAsync(Ct));

        // The id is the sender device's: another device of the same user, or another user, may use the same one.
        var otherDevice = await Store.ToDevice.EnqueueAsync(new NewToDeviceSend(Alice, "LAPTOP", "t1", "m.test", [To(Alice, "PHONE")], 1_000), Ct);
        Assert.False(otherDevice.Duplicate);
        Assert.Equal(2, (await ReadAsync(Alice, "PHONE")).Count);
    }

    [Fact]
    public async Task Concurrent_sends_with_one_transaction_id_store_once()
    {
        var second = await OpenSecondStoreAsync();
        var sends = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? Store : second).ToDevice.EnqueueAsync(new NewToDeviceSend(Bob, "TABLET", "same", "m.test", [To(Alice, "PHONE")], 1_000), Ct)));

        Assert.Single(sends, s => !s.Duplicate);
        Assert.Single(sends.Select(s => s.Position).Distinct());
        Assert.Single(await ReadAsync(Alice, "PHONE"));
    }

    [Fact]
    public async Task Reads_are_in_stream_order_within_bounds_and_limit()
    {
        var positions = new List<long>();
        for (var i = 1; i <= 5; i++)
        {
            positions.Add((await SendAsync($"t{i}", To(Alice, "PHONE", $"{{\"n\":{i}}}"))).Position);
            await SendAsync($"other{i}", To(Alice, "LAPTOP"));
        }

        Assert.Equal(positions, (await ReadAsync(Alice, "PHONE")).Select(m => m.StreamPosition));
        Assert.Equal(["{\"n\":1}", "{\"n\":2}"], (await ReadAsync(Alice, "PHONE", limit: 2)).Select(m => Encoding.UTF8.GetString(m.Content)));
        Assert.Equal(positions[2..4], (await ReadAsync(Alice, "PHONE", after: positions[1], upTo: positions[3])).Select(m => m.StreamPosition));
        Assert.Empty(await ReadAsync(Alice, "PHONE", after: positions[4]));
        Assert.Empty(await ReadAsync(Alice, "PHONE", after: positions[3], upTo: positions[3]));
    }

    [Fact]
    public async Task Acknowledged_messages_are_deleted_and_the_rest_stay()
    {
        var first = await SendAsync("t1", To(Alice, null));
        var second = await SendAsync("t2", To(Alice, "PHONE"));

        Assert.Equal(1, await Store.ToDevice.DeleteMessagesAsync(Alice, "PHONE", first.Position, Ct));
        Assert.Equal([second.Position], (await ReadAsync(Alice, "PHONE")).Select(m => m.StreamPosition));
        Assert.Single(await ReadAsync(Alice, "LAPTOP"));
        Assert.Equal(0, await Store.ToDevice.DeleteMessagesAsync(Alice, "PHONE", first.Position, Ct));
        Assert.Equal(1, await Store.ToDevice.DeleteMessagesAsync(Alice, "PHONE", second.Position + 10, Ct));
        Assert.Empty(await ReadAsync(Alice, "PHONE"));
    }

    [Fact]
    public async Task A_device_inbox_and_all_of_a_users_inboxes_can_be_deleted()
    {
        await SendAsync("t1", To(Alice, null), To(Bob, null));
        await SendAsync("t2", To(Alice, null));

        Assert.Equal(2, await Store.ToDevice.DeleteDeviceInboxAsync(Alice, "PHONE", Ct));
        Assert.Empty(await ReadAsync(Alice, "PHONE"));
        Assert.Equal(2, (await ReadAsync(Alice, "LAPTOP")).Count);

        await SendAsync("t3", To(Alice, null));
        Assert.Equal(3, await Store.ToDevice.DeleteUserInboxesAsync(Alice, exceptDeviceId: "PHONE", Ct));
        Assert.Single(await ReadAsync(Alice, "PHONE"));
        Assert.Equal(1, await Store.ToDevice.DeleteUserInboxesAsync(Alice, exceptDeviceId: null, Ct));
        Assert.Single(await ReadAsync(Bob, "TABLET"));
    }

    [Fact]
    public async Task Messages_and_transaction_ids_survive_reopening_the_store_and_ids_are_pruned_by_age()
    {
        var sent = await SendAsync("t1", To(Alice, "PHONE"));
        await ReopenAsync();

        Assert.Equal(sent.Position, Assert.Single(await ReadAsync(Alice, "PHONE")).StreamPosition);
        Assert.True((await SendAsync("t1", To(Alice, "PHONE"))).Duplicate);
        Assert.Equal(sent.Position, await Store.ToDevice.GetMaxStreamPositionAsync(Ct));

        Assert.Equal(1, await Store.TransactionIds.PruneAsync(2_000, Ct));
        Assert.False((await SendAsync("t1", To(Alice, "PHONE"))).Duplicate);
    }

    [Fact]
    public async Task Bad_input_is_refused_before_anything_is_written()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => SendAsync("t1", To(Alice, "PHONE", "[1]")));
        await Assert.ThrowsAsync<ArgumentException>(() => SendAsync("t1", To(Alice, "PHONE", "{")));
        await Assert.ThrowsAsync<ArgumentException>(() => SendAsync("t1", To(Alice, "PHONE"), To(Alice, "LAPTOP", "\"x\"")));
        await Assert.ThrowsAsync<ArgumentException>(() => SendAsync("t1", To(Alice, "PHONE"), To(Alice, "PHONE")));
        await Assert.ThrowsAsync<ArgumentException>(() => SendAsync("", To(Alice, "PHONE")));
        await Assert.ThrowsAsync<ArgumentException>(() => SendAsync("t1", To(Alice, "PHONE", "{\"big\":\"" + new string('x', 70_000) + "\"}")));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => ReadAsync(Alice, "PHONE", limit: 0));

        Assert.Equal(0, await CountRowsAsync("device_inbox"));
        Assert.Equal(0, await CountRowsAsync("to_device_transactions"));
        Assert.Equal(0, await Store.ToDevice.GetMaxStreamPositionAsync(Ct));
        Assert.False((await SendAsync("t1", To(Alice, "PHONE"))).Duplicate);
    }
}
