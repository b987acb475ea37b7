using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.KeyBackup;

/// <summary>Server-side key backups as a client sees them (client-server/key_backup.yaml and the module's rules).</summary>
public abstract class KeyBackupTests(BackendServerFixture fixture) : RoomTestBase(fixture)
{
    internal const string Algorithm = "m.megolm_backup.v1.curve25519-aes-sha2";
    private const string RoomA = "!roomA:localhost";
    private const string RoomB = "!roomB:localhost";

    internal static object AuthData(string publicKey) => new
    {
        public_key = publicKey,
        signatures = new Dictionary<string, object> { ["@alice:localhost"] = new Dictionary<string, string> { ["ed25519:DEVICE"] = "sig" } },
    };

    internal static object KeyData(long index, bool verified, long forwarded, string ciphertext) => new
    {
        first_message_index = index,
        forwarded_count = forwarded,
        is_verified = verified,
        session_data = new { ephemeral = "eph", ciphertext, mac = "mac" },
    };

    internal static string KeysPath(string version, string? roomId = null, string? sessionId = null) =>
        "/room_keys/keys" + (roomId is null ? "" : "/" + E(roomId)) + (sessionId is null ? "" : "/" + E(sessionId)) + "?version=" + E(version);

    internal static async Task<string> CreateVersionAsync(RoomsClient user, string publicKey = "pk") =>
        (await user.OkAsync(Post, "/room_keys/version", new { algorithm = Algorithm, auth_data = AuthData(publicKey) })).GetProperty("version").GetString()!;

    private static string Ciphertext(JsonElement key) => key.GetProperty("session_data").GetProperty("ciphertext").GetString()!;

    private static (string Etag, long Count) State(JsonElement response) =>
        (response.GetProperty("etag").GetString()!, response.GetProperty("count").GetInt64());

    private static async Task<(string Etag, long Count)> VersionStateAsync(RoomsClient user, string version) =>
        State(await user.OkAsync(Get, $"/room_keys/version/{E(version)}"));

    [Fact]
    public async Task A_version_is_created_read_updated_and_deleted()
    {
        var alice = await UserAsync("alice");
        await alice.FailsAsync(Get, "/room_keys/version", null, HttpStatusCode.NotFound, "M_NOT_FOUND");

        Assert.Equal("1", await CreateVersionAsync(alice, "first"));
        Assert.Equal("2", await CreateVersionAsync(alice, "second"));

        var latest = await alice.OkAsync(Get, "/room_keys/version");
        Assert.Equal("2", latest.GetProperty("version").GetString());
        Assert.Equal(Algorithm, latest.GetProperty("algorithm").GetString());
        Assert.Equal("second", latest.GetProperty("auth_data").GetProperty("public_key").GetString());
        Assert.Equal("sig", latest.GetProperty("auth_data").GetProperty("signatures").GetProperty("@alice:localhost").GetProperty("ed25519:DEVICE").GetString());
        Assert.Equal(0, latest.GetProperty("count").GetInt64());
        Assert.Equal(JsonValueKind.String, latest.GetProperty("etag").ValueKind);
        Assert.Equal("first", (await alice.OkAsync(Get, "/room_keys/version/1")).GetProperty("auth_data").GetProperty("public_key").GetString());

        // Only auth_data changes; the body's version, when given, must be the path's, and the algorithm must stay.
        var updated = await alice.OkAsync(Put, "/room_keys/version/1", new { algorithm = Algorithm, auth_data = AuthData("first-signed"), version = "1" });
        Assert.Equal("{}", updated.GetRawText());
        Assert.Equal("first-signed", (await alice.OkAsync(Get, "/room_keys/version/1")).GetProperty("auth_data").GetProperty("public_key").GetString());
        await alice.FailsAsync(Put, "/room_keys/version/1", new { algorithm = Algorithm, auth_data = AuthData("x"), version = "2" }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, "/room_keys/version/1", new { algorithm = "org.example.other", auth_data = AuthData("x") }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, "/room_keys/version/9", new { algorithm = Algorithm, auth_data = AuthData("x") }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal("first-signed", (await alice.OkAsync(Get, "/room_keys/version/1")).GetProperty("auth_data").GetProperty("public_key").GetString());

        // Deleting the latest makes the previous one latest; deleting it again succeeds (the spec), an unknown one is 404.
        Assert.Equal("{}", (await alice.OkAsync(Delete, "/room_keys/version/2")).GetRawText());
        await alice.OkAsync(Delete, "/room_keys/version/2");
        await alice.FailsAsync(Delete, "/room_keys/version/3", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, "/room_keys/version/2", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, "/room_keys/version/2", new { algorithm = Algorithm, auth_data = AuthData("x") }, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal("1", (await alice.OkAsync(Get, "/room_keys/version")).GetProperty("version").GetString());
        // Numbers are not reused, and a version this server never hands out is simply not found (as Synapse).
        Assert.Equal("3", await CreateVersionAsync(alice));
        await alice.FailsAsync(Get, "/room_keys/version/latest", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Delete, "/room_keys/version/-1", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Keys_are_stored_and_read_for_a_session_a_room_and_the_whole_backup()
    {
        var alice = await UserAsync("alice");
        var version = await CreateVersionAsync(alice);
        Assert.Equal("{\"rooms\":{}}", (await alice.OkAsync(Get, KeysPath(version))).GetRawText());
        var empty = await VersionStateAsync(alice, version);

        var one = State(await alice.OkAsync(Put, KeysPath(version, RoomA, "sess+/1"), KeyData(1, true, 0, "a1")));
        Assert.Equal(1, one.Count);
        Assert.NotEqual(empty.Etag, one.Etag);
        var two = State(await alice.OkAsync(Put, KeysPath(version, RoomA), new { sessions = new Dictionary<string, object> { ["s2"] = KeyData(0, false, 1, "a2") } }));
        Assert.Equal(2, two.Count);
        var all = State(await alice.OkAsync(Put, KeysPath(version), new
        {
            rooms = new Dictionary<string, object> { [RoomB] = new { sessions = new Dictionary<string, object> { ["s1"] = KeyData(4, false, 2, "b1") } } },
        }));
        Assert.Equal(3, all.Count);
        Assert.Equal(all, await VersionStateAsync(alice, version));
        Assert.Equal(all, State(await alice.OkAsync(Get, "/room_keys/version")));

        var session = await alice.OkAsync(Get, KeysPath(version, RoomA, "sess+/1"));
        Assert.Equal((1, 0, true, "a1"), (session.GetProperty("first_message_index").GetInt32(), session.GetProperty("forwarded_count").GetInt32(),
            session.GetProperty("is_verified").GetBoolean(), Ciphertext(session)));
        Assert.Equal("eph", session.GetProperty("session_data").GetProperty("ephemeral").GetString());
        var room = await alice.OkAsync(Get, KeysPath(version, RoomA));
        Assert.Equal(["s2", "sess+/1"], room.GetProperty("sessions").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var backup = await alice.OkAsync(Get, KeysPath(version));
        Assert.Equal([RoomA, RoomB], backup.GetProperty("rooms").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("b1", Ciphertext(backup.GetProperty("rooms").GetProperty(RoomB).GetProperty("sessions").GetProperty("s1")));

        // A room without keys is an empty object; a session without a key is not found (the spec, as Synapse).
        Assert.Equal("{\"sessions\":{}}", (await alice.OkAsync(Get, KeysPath(version, "!other:localhost"))).GetRawText());
        await alice.FailsAsync(Get, KeysPath(version, RoomB, "missing"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, KeysPath("7"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, KeysPath("7", RoomA), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Deleting_keys_answers_the_new_etag_and_count()
    {
        var alice = await UserAsync("alice");
        var version = await CreateVersionAsync(alice);
        await alice.OkAsync(Put, KeysPath(version), new
        {
            rooms = new Dictionary<string, object>
            {
                [RoomA] = new { sessions = new Dictionary<string, object> { ["s1"] = KeyData(0, false, 0, "a1"), ["s2"] = KeyData(0, false, 0, "a2") } },
                [RoomB] = new { sessions = new Dictionary<string, object> { ["s1"] = KeyData(0, false, 0, "b1") } },
            },
        });
        var before = await VersionStateAsync(alice, version);

        var session = State(await alice.OkAsync(Delete, KeysPath(version, RoomA, "s1")));
        Assert.Equal(2, session.Count);
        Assert.NotEqual(before.Etag, session.Etag);
        Assert.Equal(session, State(await alice.OkAsync(Delete, KeysPath(version, RoomA, "s1"))));
        var room = State(await alice.OkAsync(Delete, KeysPath(version, RoomA)));
        Assert.Equal(1, room.Count);
        Assert.Equal("{\"sessions\":{}}", (await alice.OkAsync(Get, KeysPath(version, RoomA))).GetRawText());
        var all = State(await alice.OkAsync(Delete, KeysPath(version)));
        Assert.Equal(0, all.Count);
        Assert.Equal("{\"rooms\":{}}", (await alice.OkAsync(Get, KeysPath(version))).GetRawText());
        Assert.Equal(all, await VersionStateAsync(alice, version));
        await alice.FailsAsync(Delete, KeysPath("9"), null, HttpStatusCode.NotFound, "M_NOT_FOUND");

        // Deleting the version deletes its keys with it; the deleted version takes no more.
        await alice.OkAsync(Put, KeysPath(version, RoomA, "s1"), KeyData(0, false, 0, "again"));
        await alice.OkAsync(Delete, $"/room_keys/version/{version}");
        await alice.FailsAsync(Get, KeysPath(version), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s1"), KeyData(0, false, 0, "after delete"), HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task Two_devices_uploading_the_same_session_keep_the_better_key_and_a_worse_one_changes_nothing()
    {
        var laptop = await UserAsync("alice");
        var phone = new RoomsClient(Server.Client, await TestUsers.AddDeviceAsync(Server, laptop.User, "PHONE"));
        var version = await CreateVersionAsync(laptop);

        // Unverified from index 0, then verified from a later index: is_verified wins.
        await laptop.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(0, false, 0, "laptop"));
        var verified = State(await phone.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(5, true, 3, "phone")));
        Assert.Equal("phone", Ciphertext(await laptop.OkAsync(Get, KeysPath(version, RoomA, "s"))));

        // The laptop's unverified key again: ignored, and the etag stays (the stored keys did not change).
        var ignored = State(await laptop.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(0, false, 0, "laptop")));
        Assert.Equal(verified, ignored);
        Assert.Equal("phone", Ciphertext(await phone.OkAsync(Get, KeysPath(version, RoomA, "s"))));

        // Both verified: the lower first_message_index wins even with more forwards; then the lower forwarded_count.
        await laptop.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(2, true, 9, "laptop-2"));
        Assert.Equal("laptop-2", Ciphertext(await phone.OkAsync(Get, KeysPath(version, RoomA, "s"))));
        await phone.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(3, true, 0, "phone-3"));
        Assert.Equal("laptop-2", Ciphertext(await phone.OkAsync(Get, KeysPath(version, RoomA, "s"))));
        var fewerForwards = State(await phone.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(2, true, 1, "phone-2")));
        Assert.Equal("phone-2", Ciphertext(await laptop.OkAsync(Get, KeysPath(version, RoomA, "s"))));
        Assert.Equal(1, fewerForwards.Count);
        Assert.NotEqual(verified.Etag, fewerForwards.Etag);

        // At the same moment from both devices: the better key is kept whichever lands first.
        await Task.WhenAll(
            laptop.OkAsync(Put, KeysPath(version, RoomB, "race"), KeyData(1, false, 0, "laptop-race")),
            phone.OkAsync(Put, KeysPath(version, RoomB, "race"), KeyData(0, false, 0, "phone-race")));
        Assert.Equal("phone-race", Ciphertext(await laptop.OkAsync(Get, KeysPath(version, RoomB, "race"))));
    }

    [Fact]
    public async Task An_upload_to_a_stale_version_is_refused_with_the_current_version_and_nothing_is_stored()
    {
        var alice = await UserAsync("alice");
        await alice.FailsAsync(Put, KeysPath("1", RoomA, "s"), KeyData(0, false, 0, "none yet"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        var old = await CreateVersionAsync(alice);
        var current = await CreateVersionAsync(alice);

        foreach (var (path, body) in new (string, object)[]
        {
            (KeysPath(old, RoomA, "s"), KeyData(0, true, 0, "stale")),
            (KeysPath(old, RoomA), new { sessions = new Dictionary<string, object> { ["s"] = KeyData(0, true, 0, "stale") } }),
            (KeysPath(old), new { rooms = new Dictionary<string, object> { [RoomA] = new { sessions = new Dictionary<string, object> { ["s"] = KeyData(0, true, 0, "stale") } } } }),
        })
        {
            using var response = await alice.RequestAsync(Put, path, body);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("M_WRONG_ROOM_KEYS_VERSION", error.GetProperty("errcode").GetString());
            Assert.Equal(current, error.GetProperty("current_version").GetString());
        }
        await alice.FailsAsync(Put, KeysPath("3", RoomA, "s"), KeyData(0, false, 0, "future"), HttpStatusCode.NotFound, "M_NOT_FOUND");

        Assert.Equal("{\"rooms\":{}}", (await alice.OkAsync(Get, KeysPath(old))).GetRawText());
        Assert.Equal("{\"rooms\":{}}", (await alice.OkAsync(Get, KeysPath(current))).GetRawText());
        Assert.Equal(0, (await VersionStateAsync(alice, old)).Count);
    }

    [Fact]
    public async Task Bad_bodies_and_parameters_get_the_spec_errors_and_store_nothing()
    {
        var alice = await UserAsync("alice");
        await alice.FailsAsync(Post, "/room_keys/version", new { auth_data = AuthData("x") }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/room_keys/version", new { algorithm = Algorithm }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/room_keys/version", new { algorithm = Algorithm, auth_data = "pk" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/room_keys/version", new { algorithm = 1, auth_data = AuthData("x") }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/room_keys/version", new { algorithm = Algorithm, auth_data = new { signatures = new { } } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Post, "/room_keys/version", new { algorithm = "m.megolm_backup.v2", auth_data = AuthData("x") }, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        using (var notJson = await alice.RawAsync(Post, "/room_keys/version", "{\"algorithm\":"))
            await notJson.AssertErrorAsync(HttpStatusCode.BadRequest, "M_NOT_JSON");
        await alice.FailsAsync(Get, "/room_keys/version", null, HttpStatusCode.NotFound, "M_NOT_FOUND");

        var version = await CreateVersionAsync(alice);
        await alice.OkAsync(Put, KeysPath(version, RoomA, "kept"), KeyData(3, false, 0, "kept"));
        var before = await VersionStateAsync(alice, version);

        await alice.FailsAsync(Put, $"/room_keys/keys/{E(RoomA)}/s", KeyData(0, false, 0, "x"), HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Get, "/room_keys/keys", null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Delete, "/room_keys/keys?version=", null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s"), new { forwarded_count = 0, is_verified = false, session_data = new { } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s"), new { first_message_index = "0", forwarded_count = 0, is_verified = false, session_data = new { } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s"), new { first_message_index = 1.5, forwarded_count = 0, is_verified = false, session_data = new { } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s"), new { first_message_index = 0, forwarded_count = -1, is_verified = false, session_data = new { } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s"), new { first_message_index = 0, forwarded_count = 0, is_verified = "yes", session_data = new { } }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, RoomA, "s"), new { first_message_index = 0, forwarded_count = 0, is_verified = false, session_data = "opaque" }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, RoomA), new { }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version), new { }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        await alice.FailsAsync(Put, KeysPath(version, "not-a-room", "s"), KeyData(0, false, 0, "x"), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Put, KeysPath(version), new { rooms = new Dictionary<string, object> { ["not-a-room"] = new { sessions = new { } } } },
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        // One bad session among good ones: the whole upload is refused and nothing of it is stored.
        await alice.FailsAsync(Put, KeysPath(version), new
        {
            rooms = new Dictionary<string, object>
            {
                [RoomA] = new { sessions = new Dictionary<string, object> { ["kept"] = KeyData(0, true, 0, "better"), ["new"] = KeyData(0, false, 0, "new") } },
                [RoomB] = new { sessions = new Dictionary<string, object> { ["bad"] = new { first_message_index = 0 } } },
            },
        }, HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var duplicate = await alice.RawAsync(Put, KeysPath(version, RoomA),
                   "{\"sessions\":{\"d\":{\"first_message_index\":0,\"forwarded_count\":0,\"is_verified\":false,\"session_data\":{}},\"d\":{}}}"))
            await duplicate.AssertErrorAsync(HttpStatusCode.BadRequest, "M_BAD_JSON");
        using (var huge = await alice.RawAsync(Put, KeysPath(version, RoomA, "huge"),
                   $"{{\"first_message_index\":0,\"forwarded_count\":0,\"is_verified\":false,\"session_data\":{{\"ciphertext\":\"{new string('A', 70_000)}\"}}}}"))
            await huge.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");

        Assert.Equal(before, await VersionStateAsync(alice, version));
        var kept = await alice.OkAsync(Get, KeysPath(version));
        Assert.Equal([RoomA], kept.GetProperty("rooms").EnumerateObject().Select(p => p.Name));
        Assert.Equal("kept", Ciphertext(kept.GetProperty("rooms").GetProperty(RoomA).GetProperty("sessions").GetProperty("kept")));
    }

    [Fact]
    public async Task Backups_belong_to_their_user_and_need_an_access_token()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var version = await CreateVersionAsync(alice);
        await alice.OkAsync(Put, KeysPath(version, RoomA, "s"), KeyData(0, false, 0, "alice"));

        await bob.FailsAsync(Get, "/room_keys/version", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Get, KeysPath(version), null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await bob.FailsAsync(Delete, $"/room_keys/version/{version}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Equal("1", await CreateVersionAsync(bob));
        Assert.Equal("{\"rooms\":{}}", (await bob.OkAsync(Get, KeysPath("1"))).GetRawText());

        using (var anonymous = await alice.RawAsync(Get, "/room_keys/version", null, authenticated: false))
            await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
        Assert.Equal("alice", Ciphertext(await alice.OkAsync(Get, KeysPath(version, RoomA, "s"))));
    }
}

public sealed class SqliteKeyBackupTests(SqliteServerFixture fixture) : KeyBackupTests(fixture), IClassFixture<SqliteServerFixture>;

public sealed class PostgresKeyBackupTests(PostgresServerFixture fixture) : KeyBackupTests(fixture), IClassFixture<PostgresServerFixture>;
