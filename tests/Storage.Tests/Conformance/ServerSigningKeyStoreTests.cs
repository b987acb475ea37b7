using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>The server's signing keys: one current key created once, expired keys kept without their seed.</summary>
public abstract class ServerSigningKeyStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private static NewServerSigningKey Key(string id, byte fill, long created = 1_000) =>
        new(id, Enumerable.Repeat(fill, 32).ToArray(), Enumerable.Repeat((byte)(fill + 1), 32).ToArray(), created);

    [Fact]
    public async Task The_first_candidate_becomes_the_current_key_and_later_candidates_get_it_back()
    {
        var first = await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:a", 1), Ct);
        var second = await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:b", 7, created: 2_000), Ct);

        Assert.Equal("ed25519:a", first.KeyId);
        Assert.Equal(Enumerable.Repeat((byte)1, 32), first.PublicKey);
        Assert.Equal(Enumerable.Repeat((byte)2, 32), first.Seed!);
        Assert.Equal((1_000L, (long?)null), (first.CreatedTs, first.ExpiredTs));
        Assert.True(first.IsCurrent);
        Assert.Equal("ed25519:a", second.KeyId);
        Assert.Equal(first.Seed, second.Seed);
        Assert.Equal(1, await CountRowsAsync("server_signing_keys"));
    }

    [Fact]
    public async Task The_key_survives_reopening_the_store()
    {
        await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:a", 1), Ct);
        await ReopenAsync();

        var again = await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:b", 7), Ct);

        Assert.Equal("ed25519:a", again.KeyId);
        Assert.Equal(Enumerable.Repeat((byte)2, 32), again.Seed!);
    }

    [Fact]
    public async Task Concurrent_first_starts_on_separate_stores_agree_on_one_key()
    {
        var stores = new List<IHomeServerStore> { Store };
        for (var i = 0; i < 5; i++) stores.Add(await OpenSecondStoreAsync());

        var results = await Task.WhenAll(stores.Select((store, i) =>
            Task.Run(() => store.SigningKeys.GetOrCreateCurrentAsync(Key($"ed25519:k{i}", (byte)(10 * i)), Ct))));

        Assert.Single(results.Select(r => r.KeyId).Distinct());
        Assert.Single(results.Select(r => Convert.ToBase64String(r.Seed!)).Distinct());
        Assert.Equal(1, await CountRowsAsync("server_signing_keys"));
    }

    [Fact]
    public async Task Rotation_expires_the_current_key_erases_its_seed_and_lists_both()
    {
        await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:a", 1), Ct);

        Assert.True(await Store.SigningKeys.RotateAsync("ed25519:a", Key("ed25519:b", 5, created: 3_000), expiredTs: 3_000, Ct));

        var keys = await Store.SigningKeys.ListAsync(Ct);
        Assert.Equal(["ed25519:a", "ed25519:b"], keys.Select(k => k.KeyId));
        Assert.Equal((3_000L, (byte[]?)null), (keys[0].ExpiredTs!.Value, keys[0].Seed));
        Assert.Equal(Enumerable.Repeat((byte)1, 32), keys[0].PublicKey);
        Assert.True(keys[1].IsCurrent);
        Assert.Equal("ed25519:b", (await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:c", 9), Ct)).KeyId);
    }

    [Fact]
    public async Task A_rotation_from_a_key_that_is_no_longer_current_changes_nothing()
    {
        await Store.SigningKeys.GetOrCreateCurrentAsync(Key("ed25519:a", 1), Ct);
        Assert.True(await Store.SigningKeys.RotateAsync("ed25519:a", Key("ed25519:b", 5), 2_000, Ct));

        Assert.False(await Store.SigningKeys.RotateAsync("ed25519:a", Key("ed25519:c", 9), 3_000, Ct));
        Assert.False(await Store.SigningKeys.RotateAsync("ed25519:unknown", Key("ed25519:d", 11), 3_000, Ct));

        Assert.Equal(["ed25519:a", "ed25519:b"], (await Store.SigningKeys.ListAsync(Ct)).Select(k => k.KeyId));
    }

    [Fact]
    public async Task Keys_of_the_wrong_size_are_refused_and_store_nothing()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.SigningKeys.GetOrCreateCurrentAsync(new NewServerSigningKey("ed25519:a", new byte[31], new byte[32], 1), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.SigningKeys.GetOrCreateCurrentAsync(new NewServerSigningKey("ed25519:a", new byte[32], new byte[33], 1), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.SigningKeys.GetOrCreateCurrentAsync(new NewServerSigningKey("", new byte[32], new byte[32], 1), Ct));

        Assert.Equal(0, await CountRowsAsync("server_signing_keys"));
        Assert.Empty(await Store.SigningKeys.ListAsync(Ct));
    }
}
