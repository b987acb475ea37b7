using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Bad input is refused with an ArgumentException before anything is written, identically on both backends.</summary>
public abstract class BadInputTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private static readonly string TooLong = new('x', StoreLimits.MaxIdentifierBytes + 1);

    // 128 two-byte characters: 256 bytes of UTF-8, over the limit although only 128 chars.
    private static readonly string TooLongInBytes = new('é', 128);

    // Looked up by name: xunit would mangle a lone surrogate when it serializes theory data.
    private static readonly Dictionary<string, string?> BadIdentifierCases = new()
    {
        ["null"] = null,
        ["empty"] = "",
        ["256 bytes"] = TooLong,
        ["256 bytes in 128 chars"] = TooLongInBytes,
        ["NUL"] = "@nul\0:test",
        ["lone surrogate"] = "@lone\ud800:test",
    };

    public static TheoryData<string> BadIdentifiers => new(BadIdentifierCases.Keys);

    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateRoomAsync(RoomA);
    }

    [Theory]
    [MemberData(nameof(BadIdentifiers))]
    public async Task Bad_identifiers_are_refused_everywhere(string badCase)
    {
        var bad = BadIdentifierCases[badCase];
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Accounts.CreateAccountAsync(new NewAccount(bad!, "h", 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Accounts.GetAccountAsync(bad!, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, bad!, "tok", 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Rooms.CreateRoomAsync(new NewRoom(bad!, "10", Alice, 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Aliases.CreateAliasAsync(new RoomAlias(bad!, RoomA, Alice), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message(bad!)]), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$ok", sender: bad!)]), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.AccountData.SetAccountDataAsync(Alice, null, bad!, TestEvents.Json(new { }), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Receipts.SetReceiptAsync(new NewReceipt(RoomA, "m.read", Alice, bad!, 1, TestEvents.Json(new { })), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Filters.CreateFilterAsync(bad!, TestEvents.Json(new { }), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "D", bad!, Ct));

        Assert.Equal(0, await CountRowsAsync("events"));
        Assert.Equal(0, await CountRowsAsync("devices"));
        Assert.Equal(1, await CountRowsAsync("accounts"));
        Assert.Equal(1, await CountRowsAsync("rooms"));
        Assert.Equal(0, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
    }

    [Fact]
    public async Task Empty_state_keys_are_fine_but_null_ones_in_state_changes_are_not()
    {
        await AppendStateAsync(RoomA, TestEvents.State("$s", "m.room.name", "", new { name = "n" }));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.AppendAsync(
            new EventBatch(RoomA, 1, [TestEvents.Message("$m")]) { StateChanges = [new StateChange("m.room.name", null!, "$s")] }, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.State.GetStateEventAsync(RoomA, "m.room.name", null!, Ct));
        Assert.NotNull(await Store.State.GetStateEventAsync(RoomA, "m.room.name", "", Ct));
    }

    [Fact]
    public async Task Oversized_or_malformed_json_is_refused_and_nothing_is_written()
    {
        var oversized = TestEvents.Utf8("{\"body\":\"" + new string('a', StoreLimits.MaxEventJsonBytes) + "\"}");
        var refused = new[]
        {
            oversized,
            TestEvents.Utf8("{\"unterminated\":"),
            TestEvents.Utf8("[1,2,3]"),
            TestEvents.Utf8("\"just a string\""),
            TestEvents.Utf8("{} {}"),
            [],
            null!,
        };
        foreach (var json in refused)
        {
            var bad = new NewEvent("$bad", "m.room.message", null, Alice, 1, json);
            await Assert.ThrowsAnyAsync<ArgumentException>(() =>
                Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$good"), bad]), Ct));
            await Assert.ThrowsAnyAsync<ArgumentException>(() =>
                Store.AccountData.SetAccountDataAsync(Alice, null, "t", json, Ct));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Filters.CreateFilterAsync(Alice, json, Ct));
        }

        Assert.Null(await Store.Events.GetEventAsync("$good", Ct));
        Assert.Equal(0, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
        Assert.Equal(0, await Store.AccountData.GetMaxStreamPositionAsync(Ct));
        Assert.Equal(0, await CountRowsAsync("filters"));

        var atLimit = TestEvents.Utf8("{\"b\":\"" + new string('a', StoreLimits.MaxEventJsonBytes - 8) + "\"}");
        Assert.Equal(StoreLimits.MaxEventJsonBytes, atLimit.Length);
        await Store.Events.AppendAsync(new EventBatch(RoomA, 0, [new NewEvent("$big", "m.room.message", null, Alice, 1, atLimit)]), Ct);
        Assert.Equal(atLimit, (await Store.Events.GetEventAsync("$big", Ct))!.Json);
    }

    [Fact]
    public async Task Malformed_batches_are_refused()
    {
        var member = TestEvents.Member("$join", Alice, "join");
        var batches = new[]
        {
            new EventBatch(RoomA, 0, []),
            new EventBatch(RoomA, -1, [TestEvents.Message("$1")]),
            new EventBatch(RoomA, 0, null!),
            new EventBatch(RoomA, 0, [TestEvents.Message("$1"), TestEvents.Message("$1")]),
            new EventBatch(RoomA, 0, [member with { Membership = null }]),
            new EventBatch(RoomA, 0, [member with { StateKey = null }]),
            new EventBatch(RoomA, 0, [TestEvents.Message("$1") with { Membership = "join" }]),
            new EventBatch(RoomA, 0, [null!]),
            new EventBatch(RoomA, 0, Enumerable.Range(0, StoreLimits.MaxEventsPerBatch + 1).Select(i => TestEvents.Message($"${i}")).ToList()),
            new EventBatch(RoomA, 0, [TestEvents.Message("$1") with { Transaction = new ClientTransaction("D", "t") },
                TestEvents.Message("$2") with { Transaction = new ClientTransaction("D", "t") }]),
            new EventBatch(RoomA, 0, [member]) { StateChanges = [new("m.room.member", Alice, "$join"), new("m.room.member", Alice, null)] },
            new EventBatch(RoomA, 0, [member]) { StateChanges = null! },
            new EventBatch(RoomA, 0, [member]) { Redactions = [new Redaction("$join", TestEvents.Utf8("nope"))] },
            new EventBatch(RoomA, 0, [member]) { Redactions = [new Redaction("$x", TestEvents.Json(new { })), new Redaction("$x", TestEvents.Json(new { }))] },
            new EventBatch(RoomA, long.MaxValue, [member]),
            null!,
        };

        foreach (var batch in batches)
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.AppendAsync(batch, Ct));
        }

        Assert.Equal(0, await CountRowsAsync("events"));
        Assert.Equal(0, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
    }

    [Fact]
    public async Task Query_limits_and_positions_are_checked()
    {
        foreach (var limit in new[] { 0, -1, StoreLimits.MaxQueryLimit + 1 })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetLatestEventsAsync(RoomA, limit, Ct));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetRoomEventsAsync(RoomA, 0, Direction.Forward, limit, Ct));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetEventsAfterAsync([RoomA], 0, limit, Ct));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Receipts.GetReceiptChangesAsync([RoomA], 0, limit, Ct));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Rooms.GetPublishedRoomsAsync(null, limit, Ct));
        }
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetRoomEventsAsync(RoomA, -1, Direction.Backward, 10, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetRoomEventsAsync(RoomA, 0, (Direction)7, 10, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetEventsAfterAsync(null!, 0, 10, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Events.GetEventsAfterAsync([RoomA, null!], 0, 10, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.AccountData.GetAccountDataChangesAsync(Alice, -5, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.State.GetRoomsOfUserAsync(Alice, [""], Ct));
    }

    [Fact]
    public async Task Oversized_profile_and_device_fields_are_refused()
    {
        var longText = new string('n', StoreLimits.MaxDisplayNameBytes + 1);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Accounts.SetDisplayNameAsync(Alice, longText, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Accounts.SetAvatarUrlAsync(Alice, "mxc://" + new string('u', StoreLimits.MaxUrlBytes), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Accounts.SetPasswordHashAsync(Alice, new string('h', StoreLimits.MaxPasswordHashBytes + 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "D", "tok", 1, longText), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Devices.IssueAccessTokenAsync(new NewAccessToken(Alice, "D", "", 1), Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.Devices.FindAccessTokenOwnerAsync(null!, Ct));
        await Assert.ThrowsAnyAsync<ArgumentException>(() =>
            Store.Devices.RecordLastSeenAsync(Alice, "D", 1, new string('9', StoreLimits.MaxIpAddressBytes + 1), Ct));

        var account = await Store.Accounts.GetAccountAsync(Alice, Ct);
        Assert.Equal(new Account(Alice, "hash", 1_000, false, false, null, null), account);
        Assert.Empty(await Store.Devices.GetDevicesAsync(Alice, Ct));
    }
}
