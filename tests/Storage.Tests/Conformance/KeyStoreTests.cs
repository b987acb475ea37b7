using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class KeyStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string Dave = "@dave:test";
    private const string Phone = "PHONE";

    private static UploadedKey Otk(string id, string json = "\"k\"") => new("signed_curve25519", $"signed_curve25519:{id}", json);

    private Task<KeyUploadResult> UploadAsync(
        string user, string device, string? deviceKeys = null, IReadOnlyList<UploadedKey>? oneTime = null, IReadOnlyList<UploadedKey>? fallback = null) =>
        Store.Keys.UploadKeysAsync(new KeyUpload(user, device, deviceKeys, oneTime ?? [], fallback ?? []), Ct);

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
    public async Task Device_keys_read_back_and_only_a_real_change_takes_a_device_list_position()
    {
        Assert.Equal(0, await Store.Keys.GetMaxDeviceListPositionAsync(Ct));
        var first = await UploadAsync(Alice, Phone, """{"device_id":"PHONE","n":1}""");
        var same = await UploadAsync(Alice, Phone, """{"device_id":"PHONE","n":1}""");
        var changed = await UploadAsync(Alice, Phone, """{"device_id":"PHONE","n":2}""");
        await UploadAsync(Bob, "TAB", """{"device_id":"TAB"}""");

        Assert.NotNull(first.DeviceListPosition);
        Assert.Null(same.DeviceListPosition);
        Assert.True(changed.DeviceListPosition > first.DeviceListPosition);
        Assert.Equal("""{"device_id":"PHONE","n":2}""", await Store.Keys.GetDeviceKeysAsync(Alice, Phone, Ct));
        Assert.Null(await Store.Keys.GetDeviceKeysAsync(Alice, "OTHER", Ct));
        Assert.Equal([(Alice, Phone), (Bob, "TAB")],
            (await Store.Keys.GetDeviceKeysAsync([Alice, Bob, Carol], Ct)).Select(k => (k.UserId, k.DeviceId)).Order());
        Assert.Equal(changed.DeviceListPosition + 1, await Store.Keys.GetMaxDeviceListPositionAsync(Ct));
    }

    [Fact]
    public async Task One_time_keys_are_counted_per_algorithm_and_an_existing_id_keeps_its_first_content()
    {
        var result = await UploadAsync(Alice, Phone, oneTime:
            [Otk("AAA"), Otk("AAB"), new UploadedKey("curve25519", "curve25519:X", "\"c\"")]);
        Assert.Equal(new Dictionary<string, int> { ["signed_curve25519"] = 2, ["curve25519"] = 1 }, result.OneTimeKeyCounts);
        Assert.Null(result.DeviceListPosition);

        await UploadAsync(Alice, Phone, oneTime: [Otk("AAA", "\"other\"")]);
        Assert.Equal(new Dictionary<string, string> { ["signed_curve25519:AAA"] = "\"k\"" },
            await Store.Keys.GetOneTimeKeysAsync(Alice, Phone, ["signed_curve25519:AAA", "signed_curve25519:ZZZ"], Ct));
        Assert.Equal(2, (await Store.Keys.CountOneTimeKeysAsync(Alice, Phone, Ct))["signed_curve25519"]);
        Assert.Empty(await Store.Keys.CountOneTimeKeysAsync(Alice, "OTHER", Ct));
        Assert.Equal(0, await Store.Keys.GetMaxDeviceListPositionAsync(Ct));
    }

    [Fact]
    public async Task A_claim_takes_the_lowest_key_once_then_the_fallback_key_which_becomes_used()
    {
        await UploadAsync(Alice, Phone, oneTime: [Otk("B", "\"b\""), Otk("A", "\"a\"")],
            fallback: [new UploadedKey("signed_curve25519", "signed_curve25519:F", "\"f\"")]);
        Assert.Equal(["signed_curve25519"], await Store.Keys.GetUnusedFallbackKeyAlgorithmsAsync(Alice, Phone, Ct));

        var claim = new KeyClaim(Alice, Phone, "signed_curve25519");
        var first = await Store.Keys.ClaimKeysAsync([claim, new KeyClaim(Alice, "NONE", "signed_curve25519"), new KeyClaim(Bob, Phone, "x")], Ct);
        Assert.Equal([new ClaimedKey(Alice, Phone, "signed_curve25519:A", "\"a\"", false)], first);
        Assert.Equal(new ClaimedKey(Alice, Phone, "signed_curve25519:B", "\"b\"", false), (await Store.Keys.ClaimKeysAsync([claim], Ct)).Single());
        Assert.Equal(new ClaimedKey(Alice, Phone, "signed_curve25519:F", "\"f\"", true), (await Store.Keys.ClaimKeysAsync([claim], Ct)).Single());
        Assert.Empty(await Store.Keys.GetUnusedFallbackKeyAlgorithmsAsync(Alice, Phone, Ct));
        // A used fallback key is still handed out, and uploading the same one again does not make it unused.
        Assert.True((await Store.Keys.ClaimKeysAsync([claim], Ct)).Single().IsFallback);
        await UploadAsync(Alice, Phone, fallback: [new UploadedKey("signed_curve25519", "signed_curve25519:F", "\"f\"")]);
        Assert.Empty(await Store.Keys.GetUnusedFallbackKeyAlgorithmsAsync(Alice, Phone, Ct));
        await UploadAsync(Alice, Phone, fallback: [new UploadedKey("signed_curve25519", "signed_curve25519:G", "\"g\"")]);
        Assert.Equal(["signed_curve25519"], await Store.Keys.GetUnusedFallbackKeyAlgorithmsAsync(Alice, Phone, Ct));
        Assert.Empty(await Store.Keys.CountOneTimeKeysAsync(Alice, Phone, Ct));
    }

    [Fact]
    public async Task Concurrent_claims_from_two_stores_hand_out_each_key_exactly_once()
    {
        const int keys = 60;
        await UploadAsync(Alice, Phone, oneTime: Enumerable.Range(0, keys).Select(i => Otk($"K{i:D3}", $"\"{i}\"")).ToList());
        var second = await OpenSecondStoreAsync();
        var stores = new[] { Store, second };
        var claim = new KeyClaim(Alice, Phone, "signed_curve25519");
        var claims = await Task.WhenAll(Enumerable.Range(0, keys + 20).Select(i => Task.Run(() => stores[i % 2].Keys.ClaimKeysAsync([claim], Ct))));

        var handedOut = claims.SelectMany(c => c).Select(c => c.KeyId).ToList();
        Assert.Equal(keys, handedOut.Count);
        Assert.Equal(keys, handedOut.Distinct().Count());
        Assert.Empty(await Store.Keys.CountOneTimeKeysAsync(Alice, Phone, Ct));
    }

    [Fact]
    public async Task Cross_signing_keys_and_signatures_read_back_and_append_device_list_changes()
    {
        var set = await Store.Keys.SetCrossSigningKeysAsync(Alice,
            [new NewCrossSigningKey("master", "MASTER", "{\"m\":1}"), new NewCrossSigningKey("self_signing", "SELF", "{\"s\":1}")], Ct);
        var replaced = await Store.Keys.SetCrossSigningKeysAsync(Alice, [new NewCrossSigningKey("master", "MASTER2", "{\"m\":2}")], Ct);
        Assert.True(replaced > set);
        Assert.Equal([("master", "MASTER2", "{\"m\":2}"), ("self_signing", "SELF", "{\"s\":1}")],
            (await Store.Keys.GetCrossSigningKeysAsync([Alice, Bob], Ct)).Select(k => (k.Type, k.PublicKey, k.Json)).Order());

        var signed = await Store.Keys.AddSignaturesAsync(
        [
            new KeySignature(Alice, Phone, Alice, "ed25519:SELF", "sig1"),
            new KeySignature(Bob, "BOBMASTER", Alice, "ed25519:USER", "sig2"),
        ], Ct);
        await Store.Keys.AddSignaturesAsync([new KeySignature(Alice, Phone, Alice, "ed25519:SELF", "sig3")], Ct);
        Assert.True(signed > replaced);
        Assert.Equal([new KeySignature(Alice, Phone, Alice, "ed25519:SELF", "sig3")], await Store.Keys.GetSignaturesAsync([Alice], Ct));
        Assert.Single(await Store.Keys.GetSignaturesAsync([Bob], Ct));
        Assert.Equal(0, await Store.Keys.AddSignaturesAsync([], Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Keys.SetCrossSigningKeysAsync(Alice, [new NewCrossSigningKey("other", "X", "{}")], Ct));
    }

    [Fact]
    public async Task Deleting_a_devices_keys_removes_every_key_and_signature_of_it_and_appends_a_change()
    {
        await UploadAsync(Alice, Phone, "{\"d\":1}", [Otk("A")], [new UploadedKey("signed_curve25519", "signed_curve25519:F", "\"f\"")]);
        await UploadAsync(Alice, "LAPTOP", "{\"d\":2}", [Otk("A")]);
        await Store.Keys.AddSignaturesAsync([new KeySignature(Alice, Phone, Alice, "ed25519:SELF", "sig")], Ct);
        var before = await Store.Keys.GetMaxDeviceListPositionAsync(Ct);

        var position = await Store.Keys.DeleteDeviceKeysAsync(Alice, Phone, Ct);

        Assert.Equal(before + 1, position);
        Assert.Null(await Store.Keys.GetDeviceKeysAsync(Alice, Phone, Ct));
        Assert.Empty(await Store.Keys.CountOneTimeKeysAsync(Alice, Phone, Ct));
        Assert.Empty(await Store.Keys.GetUnusedFallbackKeyAlgorithmsAsync(Alice, Phone, Ct));
        Assert.Empty(await Store.Keys.GetSignaturesAsync([Alice], Ct));
        Assert.NotNull(await Store.Keys.GetDeviceKeysAsync(Alice, "LAPTOP", Ct));
        Assert.Equal(1, (await Store.Keys.CountOneTimeKeysAsync(Alice, "LAPTOP", Ct))["signed_curve25519"]);
    }

    [Fact]
    public async Task Device_list_changes_cover_the_user_and_joined_members_of_its_joined_rooms_only()
    {
        await SeedRoomsAsync();
        var since = (await UploadAsync(Bob, "B", "{}")).DeviceListPosition!.Value;
        await UploadAsync(Carol, "C", "{}");
        await UploadAsync(Dave, "D", "{}");
        var alice = (await UploadAsync(Alice, "A", "{}")).DeviceListPosition!.Value;
        var bob = await Store.Keys.SetCrossSigningKeysAsync(Bob, [new NewCrossSigningKey("master", "M", "{}")], Ct);

        Assert.Equal([(Alice, alice), (Bob, bob)],
            (await Store.Keys.GetDeviceListChangesAsync(Alice, since, bob, Ct)).Select(c => (c.UserId, c.StreamPosition)));
        Assert.Equal([Carol, Alice], (await Store.Keys.GetDeviceListChangesAsync(Bob, 0, alice, Ct)).Select(c => c.UserId));
        Assert.Empty(await Store.Keys.GetDeviceListChangesAsync(Alice, bob, bob, Ct));
        Assert.Equal([Dave], (await Store.Keys.GetDeviceListChangesAsync(Dave, 0, bob, Ct)).Select(c => c.UserId));

        // Dave shares no room with Alice, but a signature Alice made of his key is news about him for her.
        var signed = await Store.Keys.AddSignaturesAsync([new KeySignature(Dave, "DAVEMASTER", Alice, "ed25519:USER", "sig")], Ct);
        Assert.Equal([(Dave, signed)], (await Store.Keys.GetDeviceListChangesAsync(Alice, bob, signed, Ct)).Select(c => (c.UserId, c.StreamPosition)));
        Assert.DoesNotContain(Dave, (await Store.Keys.GetDeviceListChangesAsync(Bob, bob, signed, Ct)).Select(c => c.UserId));

        Assert.Equal([Alice, Bob], await Store.Keys.GetUsersSharingARoomAsync(Alice, [Alice, Bob, Carol, Dave], Ct));
        Assert.Empty(await Store.Keys.GetUsersSharingARoomAsync(Dave, [Alice, Dave], Ct));
        Assert.Equal([Alice, Bob, Carol], await Store.Keys.GetJoinedMembersAsync([RoomA, RoomB], Ct));
    }

    [Fact]
    public async Task Membership_changes_are_those_of_the_users_rooms_between_the_positions()
    {
        await SeedRoomsAsync();
        var after = (await AppendStateAsync(RoomB, TestEvents.Member("$b3", Carol, "leave")))[0].GlobalPosition;
        var leave = (await AppendStateAsync(RoomA, TestEvents.Member("$a4", Bob, "leave")))[0].GlobalPosition;
        await CreateRoomAsync(RoomC);
        await AppendStateAsync(RoomC, TestEvents.Member("$c1", Carol, "join"));

        Assert.Equal([new MembershipChange(RoomA, Bob, "leave", leave)],
            await Store.Keys.GetMembershipChangesAsync(Alice, after, leave + 10, Ct));
        Assert.Equal([(RoomA, Alice), (RoomA, Bob), (RoomA, Dave), (RoomA, Bob)],
            (await Store.Keys.GetMembershipChangesAsync(Alice, 0, leave, Ct)).Select(c => (c.RoomId, c.UserId)));
        Assert.Empty(await Store.Keys.GetMembershipChangesAsync(Alice, leave, leave, Ct));
    }

    [Fact]
    public async Task Keys_survive_reopening_the_store()
    {
        await UploadAsync(Alice, Phone, "{\"d\":1}", [Otk("A")]);
        await ReopenAsync();
        Assert.Equal("{\"d\":1}", await Store.Keys.GetDeviceKeysAsync(Alice, Phone, Ct));
        Assert.Equal(1, (await Store.Keys.CountOneTimeKeysAsync(Alice, Phone, Ct))["signed_curve25519"]);
        Assert.Equal(1, await Store.Keys.GetMaxDeviceListPositionAsync(Ct));
    }

    [Fact]
    public async Task Bad_keys_are_refused_before_any_write()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => UploadAsync(Alice, Phone, "{}", [new UploadedKey("curve25519", "other:A", "\"k\"")]));
        await Assert.ThrowsAsync<ArgumentException>(() => UploadAsync(Alice, "", "{}"));
        await Assert.ThrowsAsync<ArgumentException>(() => UploadAsync(Alice, Phone, "{}", fallback:
            [new UploadedKey("curve25519", "curve25519:A", "\"a\""), new UploadedKey("curve25519", "curve25519:B", "\"b\"")]));
        Assert.Null(await Store.Keys.GetDeviceKeysAsync(Alice, Phone, Ct));
        Assert.Equal(0, await Store.Keys.GetMaxDeviceListPositionAsync(Ct));
    }
}
