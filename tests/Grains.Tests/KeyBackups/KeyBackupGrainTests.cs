using System.Text;
using HomeServer.Grains.KeyBackups;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;
using Orleans.Runtime;

namespace HomeServer.Grains.Tests.KeyBackups;

/// <summary>A user's key backups on the grain: version rules, the better-key rule and what survives a new activation.</summary>
public sealed class KeyBackupGrainTests
{
    private static readonly LocalServer Server = new("test");
    private static readonly string Alice = Server.UserId("alice");
    private const string Algorithm = KeyBackupAlgorithms.MegolmBackupV1;
    private const string RoomA = "!a:test";
    private const string RoomB = "!b:test";

    private static byte[] Json(string json) => Encoding.UTF8.GetBytes(json);

    private static string Text(byte[] json) => Encoding.UTF8.GetString(json);

    private static BackedUpKey Key(string sessionId, long index, bool verified, long forwarded, string data, string roomId = RoomA) =>
        new(roomId, sessionId, index, forwarded, verified, Json(data));

    private static async Task<(TestStore Store, GrainTestCluster Cluster, IKeyBackupGrain Backup)> StartAsync(StoreBackend backend, int silos = 1)
    {
        var store = await TestStore.OpenAsync(backend);
        await store.Store.Accounts.CreateAccountAsync(new NewAccount(Alice, "hash", 1_000), CancellationToken.None);
        var cluster = await GrainTestCluster.StartAsync(silos, store.Store, Server);
        return (store, cluster, cluster.Grains.GetGrain<IKeyBackupGrain>(Alice));
    }

    private static async Task<MatrixRequestException> RefusedAsync(Func<Task> call, string errcode)
    {
        var refused = await Assert.ThrowsAsync<MatrixRequestException>(call);
        Assert.Equal(errcode, refused.ErrCode);
        return refused;
    }

    [Fact]
    public void The_better_key_is_verified_first_then_lower_first_message_index_then_lower_forwarded_count()
    {
        static BackupSessionKey K(bool verified, long index, long forwarded) => new(RoomA, "s", index, forwarded, verified, Json("{}"));

        // is_verified decides alone, whatever the other two say.
        Assert.True(BackupKeyPreference.Replaces(K(false, 0, 0), K(true, 9, 9)));
        Assert.False(BackupKeyPreference.Replaces(K(true, 9, 9), K(false, 0, 0)));
        // Equal is_verified: the lower first_message_index, whatever forwarded_count says.
        Assert.True(BackupKeyPreference.Replaces(K(true, 5, 0), K(true, 4, 9)));
        Assert.False(BackupKeyPreference.Replaces(K(false, 4, 9), K(false, 5, 0)));
        // Both equal: the lower forwarded_count; a key no better than the stored one leaves it.
        Assert.True(BackupKeyPreference.Replaces(K(false, 3, 2), K(false, 3, 1)));
        Assert.False(BackupKeyPreference.Replaces(K(false, 3, 1), K(false, 3, 2)));
        Assert.False(BackupKeyPreference.Replaces(K(true, 3, 1), K(true, 3, 1)));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Versions_are_created_read_updated_and_deleted_by_the_spec_rules(StoreBackend backend)
    {
        var (store, cluster, backup) = await StartAsync(backend);
        await using var _ = store;
        await using var __ = cluster;

        Assert.Null(await backup.GetVersionAsync(null));
        Assert.Equal("1", await backup.CreateVersionAsync(Algorithm, Json("{\"public_key\":\"one\"}")));
        Assert.Equal("2", await backup.CreateVersionAsync(Algorithm, Json("{\"public_key\":\"two\"}")));
        await RefusedAsync(() => backup.CreateVersionAsync("m.megolm_backup.v0", Json("{}")), "M_INVALID_PARAM");

        var current = await backup.GetVersionAsync(null);
        Assert.Equal(new[] { "2", Algorithm, "{\"public_key\":\"two\"}", "0" }, new[] { current!.Version, current.Algorithm, Text(current.AuthData), current.Etag });
        Assert.Equal("{\"public_key\":\"one\"}", Text((await backup.GetVersionAsync("1"))!.AuthData));
        Assert.Null(await backup.GetVersionAsync("3"));
        Assert.Null(await backup.GetVersionAsync("not-a-version"));

        await backup.UpdateVersionAsync("1", Algorithm, Json("{\"public_key\":\"one\",\"signatures\":{}}"));
        Assert.Equal("{\"public_key\":\"one\",\"signatures\":{}}", Text((await backup.GetVersionAsync("1"))!.AuthData));
        await RefusedAsync(() => backup.UpdateVersionAsync("1", "org.example.other", Json("{}")), "M_INVALID_PARAM");
        await RefusedAsync(() => backup.UpdateVersionAsync("9", Algorithm, Json("{}")), "M_NOT_FOUND");
        Assert.Equal("{\"public_key\":\"one\",\"signatures\":{}}", Text((await backup.GetVersionAsync("1"))!.AuthData));

        await backup.DeleteVersionAsync("2");
        await backup.DeleteVersionAsync("2");
        await RefusedAsync(() => backup.DeleteVersionAsync("5"), "M_NOT_FOUND");
        await RefusedAsync(() => backup.DeleteVersionAsync("x"), "M_NOT_FOUND");
        await RefusedAsync(() => backup.UpdateVersionAsync("2", Algorithm, Json("{}")), "M_NOT_FOUND");
        Assert.Null(await backup.GetVersionAsync("2"));
        Assert.Equal("1", (await backup.GetVersionAsync(null))!.Version);
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task An_upload_to_an_older_version_names_the_current_one_and_stores_nothing(StoreBackend backend)
    {
        var (store, cluster, backup) = await StartAsync(backend);
        await using var _ = store;
        await using var __ = cluster;

        await RefusedAsync(() => backup.PutKeysAsync("1", [Key("s", 0, false, 0, "{}")]), "M_NOT_FOUND");
        await backup.CreateVersionAsync(Algorithm, Json("{}"));
        await backup.CreateVersionAsync(Algorithm, Json("{}"));

        var stale = await backup.PutKeysAsync("1", [Key("s", 0, false, 0, "{}")]);
        Assert.Equal(new KeyBackupUpload(null, "2"), stale);
        await RefusedAsync(() => backup.PutKeysAsync("3", [Key("s", 0, false, 0, "{}")]), "M_NOT_FOUND");
        await RefusedAsync(() => backup.PutKeysAsync("01x", [Key("s", 0, false, 0, "{}")]), "M_NOT_FOUND");
        Assert.Empty(await backup.GetKeysAsync("1", null, null));
        Assert.Empty(await backup.GetKeysAsync("2", null, null));

        // Once the newer version is deleted, the older one is current again and takes keys.
        await backup.DeleteVersionAsync("2");
        Assert.Equal(new KeyBackupState("1", 1), (await backup.PutKeysAsync("1", [Key("s", 0, false, 0, "{}")])).State);
        await RefusedAsync(() => backup.PutKeysAsync("2", [Key("s", 0, false, 0, "{}")]), "M_NOT_FOUND");
        await RefusedAsync(() => backup.GetKeysAsync("2", null, null), "M_NOT_FOUND");
        await RefusedAsync(() => backup.DeleteKeysAsync("2", null, null), "M_NOT_FOUND");
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Two_devices_uploading_the_same_session_at_once_leave_the_better_key(StoreBackend backend)
    {
        var (store, cluster, backup) = await StartAsync(backend, silos: 2);
        await using var _ = store;
        await using var __ = cluster;
        await backup.CreateVersionAsync(Algorithm, Json("{}"));

        // Each device's view of the same sessions; the better one differs per session and per rule.
        BackedUpKey[] first = [Key("s1", 0, false, 0, "{\"from\":\"first\"}"), Key("s2", 7, true, 3, "{\"from\":\"first\"}"), Key("s3", 2, true, 1, "{\"from\":\"first\"}")];
        BackedUpKey[] second = [Key("s1", 3, true, 5, "{\"from\":\"second\"}"), Key("s2", 2, true, 9, "{\"from\":\"second\"}"), Key("s3", 2, true, 0, "{\"from\":\"second\"}")];
        var grains = Enumerable.Range(0, 2).Select(_ => cluster.Grains.GetGrain<IKeyBackupGrain>(Alice)).ToArray();
        await Task.WhenAll(
            Task.Run(async () => { foreach (var key in first) await grains[0].PutKeysAsync("1", [key]); }),
            Task.Run(async () => { foreach (var key in second) await grains[1].PutKeysAsync("1", [key]); }));

        var kept = (await backup.GetKeysAsync("1", RoomA, null)).ToDictionary(k => k.SessionId, k => Text(k.SessionData));
        Assert.Equal("{\"from\":\"second\"}", kept["s1"]);
        Assert.Equal("{\"from\":\"second\"}", kept["s2"]);
        Assert.Equal("{\"from\":\"second\"}", kept["s3"]);

        // The worse key uploaded afterwards is ignored and changes neither the key nor the etag.
        var before = await backup.GetVersionAsync("1");
        var again = await backup.PutKeysAsync("1", first);
        Assert.Equal(new KeyBackupState(before!.Etag, 3), again.State);
        Assert.Equal("{\"from\":\"second\"}", Text((await backup.GetKeysAsync("1", RoomA, "s2")).Single().SessionData));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Keys_and_etags_are_served_from_the_store_after_the_grain_is_gone(StoreBackend backend)
    {
        var (store, cluster, backup) = await StartAsync(backend);
        await using var _ = store;
        await using var __ = cluster;
        await backup.CreateVersionAsync(Algorithm, Json("{\"public_key\":\"k\"}"));
        var put = await backup.PutKeysAsync("1", [Key("s1", 1, true, 0, "{\"c\":1}"), Key("s1", 0, false, 0, "{\"c\":2}", RoomB)]);
        var deleted = await backup.DeleteKeysAsync("1", RoomB, null);
        Assert.Equal(new KeyBackupState("1", 2), put.State);
        Assert.Equal(new KeyBackupState("2", 1), deleted);

        await cluster.DeactivateAsync(GrainId.Create("key-backup", Alice));

        var version = await backup.GetVersionAsync(null);
        Assert.Equal(("1", "2", 1L), (version!.Version, version.Etag, version.Count));
        var key = Assert.Single(await backup.GetKeysAsync("1", null, null));
        Assert.Equal((RoomA, "s1", 1L, true, "{\"c\":1}"), (key.RoomId, key.SessionId, key.FirstMessageIndex, key.IsVerified, Text(key.SessionData)));
    }
}
