using System.Text;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Key backup versions and their session keys.</summary>
public abstract class KeyBackupTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string Algorithm = "m.megolm_backup.v1.curve25519-aes-sha2";

    private static readonly Func<BackupSessionKey, BackupSessionKey, bool> LowerIndexWins =
        (stored, offered) => offered.FirstMessageIndex < stored.FirstMessageIndex;

    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
    }

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);

    private static BackupSessionKey Key(string roomId, string sessionId, long index = 0, string data = "{\"c\":\"x\"}", bool verified = false, long forwarded = 0) =>
        new(roomId, sessionId, index, forwarded, verified, Json(data));

    private Task<BackupKeysState?> PutAsync(string userId, long version, params BackupSessionKey[] keys) =>
        Store.KeyBackups.PutKeysAsync(userId, version, keys, LowerIndexWins, Ct);

    [Fact]
    public async Task Versions_count_up_per_user_and_the_latest_not_deleted_is_current()
    {
        Assert.Null(await Store.KeyBackups.GetCurrentVersionAsync(Alice, Ct));

        Assert.Equal(1, await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{\"public_key\":\"a\"}"), Ct));
        Assert.Equal(2, await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{\"public_key\":\"b\"}"), Ct));
        Assert.Equal(1, await Store.KeyBackups.CreateVersionAsync(Bob, Algorithm, Json("{\"public_key\":\"c\"}"), Ct));

        var current = await Store.KeyBackups.GetCurrentVersionAsync(Alice, Ct);
        Assert.Equal((2L, Algorithm, "{\"public_key\":\"b\"}", 0L, 0L),
            (current!.Version, current.Algorithm, Encoding.UTF8.GetString(current.AuthData), current.Etag, current.Count));
        Assert.Equal("{\"public_key\":\"a\"}", Encoding.UTF8.GetString((await Store.KeyBackups.GetVersionAsync(Alice, 1, Ct))!.AuthData));
        Assert.Null(await Store.KeyBackups.GetVersionAsync(Alice, 3, Ct));

        // Deleting the current version makes the previous one current again; a deleted number is never handed out again.
        Assert.True(await Store.KeyBackups.DeleteVersionAsync(Alice, 2, Ct));
        Assert.Equal(1, (await Store.KeyBackups.GetCurrentVersionAsync(Alice, Ct))!.Version);
        Assert.Null(await Store.KeyBackups.GetVersionAsync(Alice, 2, Ct));
        Assert.Equal(3, await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{\"public_key\":\"d\"}"), Ct));
    }

    [Fact]
    public async Task Deleting_a_version_twice_succeeds_and_an_unknown_version_is_reported()
    {
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);
        await PutAsync(Alice, 1, Key(RoomA, "s1"));

        Assert.True(await Store.KeyBackups.DeleteVersionAsync(Alice, 1, Ct));
        Assert.True(await Store.KeyBackups.DeleteVersionAsync(Alice, 1, Ct));
        Assert.False(await Store.KeyBackups.DeleteVersionAsync(Alice, 7, Ct));
        Assert.False(await Store.KeyBackups.DeleteVersionAsync(Bob, 1, Ct));
        Assert.Equal(0, await CountRowsAsync("key_backup_keys"));
        Assert.Empty(await Store.KeyBackups.GetKeysAsync(Alice, 1, null, null, Ct));
    }

    [Fact]
    public async Task Auth_data_of_a_live_version_can_be_replaced()
    {
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{\"public_key\":\"a\"}"), Ct);

        Assert.True(await Store.KeyBackups.UpdateAuthDataAsync(Alice, 1, Json("{\"public_key\":\"a\",\"signatures\":{}}"), Ct));
        Assert.Equal("{\"public_key\":\"a\",\"signatures\":{}}", Encoding.UTF8.GetString((await Store.KeyBackups.GetVersionAsync(Alice, 1, Ct))!.AuthData));
        Assert.False(await Store.KeyBackups.UpdateAuthDataAsync(Alice, 2, Json("{}"), Ct));
        await Store.KeyBackups.DeleteVersionAsync(Alice, 1, Ct);
        Assert.False(await Store.KeyBackups.UpdateAuthDataAsync(Alice, 1, Json("{}"), Ct));
    }

    [Fact]
    public async Task Keys_are_stored_read_back_by_room_and_session_and_counted()
    {
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);

        var state = await PutAsync(Alice, 1, Key(RoomA, "s1", 3, "{\"c\":\"one\"}", verified: true, forwarded: 2), Key(RoomA, "s2"), Key(RoomB, "s1"));

        Assert.Equal(new BackupKeysState(1, 3), state);
        var all = await Store.KeyBackups.GetKeysAsync(Alice, 1, null, null, Ct);
        Assert.Equal([(RoomA, "s1"), (RoomA, "s2"), (RoomB, "s1")], all.Select(k => (k.RoomId, k.SessionId)));
        var first = all[0];
        Assert.Equal((3L, 2L, true, "{\"c\":\"one\"}"), (first.FirstMessageIndex, first.ForwardedCount, first.IsVerified, Encoding.UTF8.GetString(first.SessionData)));
        Assert.Equal(2, (await Store.KeyBackups.GetKeysAsync(Alice, 1, RoomA, null, Ct)).Count);
        Assert.Single(await Store.KeyBackups.GetKeysAsync(Alice, 1, RoomB, "s1", Ct));
        Assert.Empty(await Store.KeyBackups.GetKeysAsync(Alice, 1, RoomC, null, Ct));
        Assert.Empty(await Store.KeyBackups.GetKeysAsync(Bob, 1, null, null, Ct));
        var version = await Store.KeyBackups.GetVersionAsync(Alice, 1, Ct);
        Assert.Equal((1L, 3L), (version!.Etag, version.Count));
    }

    [Fact]
    public async Task A_stored_key_is_replaced_only_when_the_rule_says_so_and_the_etag_moves_only_then()
    {
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);
        await PutAsync(Alice, 1, Key(RoomA, "s1", 5, "{\"c\":\"five\"}"));

        var worse = await PutAsync(Alice, 1, Key(RoomA, "s1", 9, "{\"c\":\"nine\"}"));
        Assert.Equal(new BackupKeysState(1, 1), worse);
        Assert.Equal("{\"c\":\"five\"}", Encoding.UTF8.GetString((await Store.KeyBackups.GetKeysAsync(Alice, 1, RoomA, "s1", Ct))[0].SessionData));

        var better = await PutAsync(Alice, 1, Key(RoomA, "s1", 2, "{\"c\":\"two\"}"));
        Assert.Equal(new BackupKeysState(2, 1), better);
        Assert.Equal("{\"c\":\"two\"}", Encoding.UTF8.GetString((await Store.KeyBackups.GetKeysAsync(Alice, 1, RoomA, "s1", Ct))[0].SessionData));

        // The rule sees what this very write stored before it: the second key of the session competes with the first.
        var both = await PutAsync(Alice, 1, Key(RoomB, "s", 4, "{\"c\":\"four\"}"), Key(RoomB, "s", 6, "{\"c\":\"six\"}"));
        Assert.Equal(new BackupKeysState(3, 2), both);
        Assert.Equal("{\"c\":\"four\"}", Encoding.UTF8.GetString((await Store.KeyBackups.GetKeysAsync(Alice, 1, RoomB, "s", Ct))[0].SessionData));
    }

    [Fact]
    public async Task Keys_go_only_into_the_current_version()
    {
        Assert.Null(await PutAsync(Alice, 1, Key(RoomA, "s1")));
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);

        Assert.Null(await PutAsync(Alice, 1, Key(RoomA, "s1")));
        Assert.Null(await PutAsync(Alice, 3, Key(RoomA, "s1")));
        Assert.NotNull(await PutAsync(Alice, 2, Key(RoomA, "s1")));
        await Store.KeyBackups.DeleteVersionAsync(Alice, 2, Ct);
        Assert.Null(await PutAsync(Alice, 2, Key(RoomA, "s1")));

        Assert.Equal(0, await CountRowsAsync("key_backup_keys"));
    }

    [Fact]
    public async Task Deleting_keys_by_session_room_or_all_moves_the_etag_when_something_went()
    {
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);
        await PutAsync(Alice, 1, Key(RoomA, "s1"), Key(RoomA, "s2"), Key(RoomB, "s1"), Key(RoomC, "s1"));

        Assert.Equal(new BackupKeysState(2, 3), await Store.KeyBackups.DeleteKeysAsync(Alice, 1, RoomA, "s1", Ct));
        Assert.Equal(new BackupKeysState(2, 3), await Store.KeyBackups.DeleteKeysAsync(Alice, 1, RoomA, "nope", Ct));
        Assert.Equal(new BackupKeysState(3, 2), await Store.KeyBackups.DeleteKeysAsync(Alice, 1, RoomA, null, Ct));
        Assert.Equal(new BackupKeysState(4, 0), await Store.KeyBackups.DeleteKeysAsync(Alice, 1, null, null, Ct));
        Assert.Null(await Store.KeyBackups.DeleteKeysAsync(Alice, 2, null, null, Ct));
        Assert.Null(await Store.KeyBackups.DeleteKeysAsync(Bob, 1, null, null, Ct));
    }

    [Fact]
    public async Task Concurrent_writers_on_two_store_instances_keep_the_better_key_and_distinct_versions()
    {
        var second = await OpenSecondStoreAsync();
        var versions = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            (i % 2 == 0 ? Store : second).KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct)));
        Assert.Equal([1L, 2, 3, 4, 5, 6], versions.Order());

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            (i % 2 == 0 ? Store : second).KeyBackups.PutKeysAsync(Alice, 6, [Key(RoomA, "s", 10 - i, $"{{\"i\":{10 - i}}}")], LowerIndexWins, Ct)));

        var kept = Assert.Single(await Store.KeyBackups.GetKeysAsync(Alice, 6, RoomA, "s", Ct));
        Assert.Equal((1L, "{\"i\":1}"), (kept.FirstMessageIndex, Encoding.UTF8.GetString(kept.SessionData)));
    }

    [Fact]
    public async Task Backups_survive_reopening_the_store()
    {
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{\"public_key\":\"k\"}"), Ct);
        await PutAsync(Alice, 1, Key(RoomA, "s1", 1, "{\"c\":\"kept\"}", verified: true));

        await ReopenAsync();

        var current = await Store.KeyBackups.GetCurrentVersionAsync(Alice, Ct);
        Assert.Equal((1L, 1L, 1L), (current!.Version, current.Etag, current.Count));
        var key = Assert.Single(await Store.KeyBackups.GetKeysAsync(Alice, 1, null, null, Ct));
        Assert.Equal((true, "{\"c\":\"kept\"}"), (key.IsVerified, Encoding.UTF8.GetString(key.SessionData)));
    }

    [Fact]
    public async Task Bad_input_is_refused_before_anything_is_written()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() => Store.KeyBackups.CreateVersionAsync(Carol, Algorithm, Json("{}"), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("[]"), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.KeyBackups.CreateVersionAsync(Alice, "", Json("{}"), Ct));
        await Store.KeyBackups.CreateVersionAsync(Alice, Algorithm, Json("{}"), Ct);
        await Assert.ThrowsAsync<ArgumentException>(() => PutAsync(Alice, 1, Key(RoomA, "s1"), Key(RoomA, "s2", data: "not json")));
        await Assert.ThrowsAsync<ArgumentException>(() => PutAsync(Alice, 1, Key(RoomA, "s1"), Key(RoomA, "")));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => PutAsync(Alice, 1, Key(RoomA, "s1", index: -1)));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.KeyBackups.GetKeysAsync(Alice, 1, null, "s1", Ct));

        Assert.Equal(1, await CountRowsAsync("key_backup_versions"));
        Assert.Equal(0, await CountRowsAsync("key_backup_keys"));
    }
}
