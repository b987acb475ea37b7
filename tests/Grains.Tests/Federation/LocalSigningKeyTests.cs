using HomeServer.Grains.Federation;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Federation;

public sealed class LocalSigningKeyTests : IAsyncLifetime
{
    private TestStore _store = null!;

    public async Task InitializeAsync() => _store = await TestStore.OpenAsync(StoreBackend.Sqlite);

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task The_first_load_creates_the_key_and_every_later_load_gets_the_same_one()
    {
        using var first = new LocalSigningKey();
        using var second = new LocalSigningKey();

        await first.LoadAsync(_store.Store.SigningKeys, "example.org", CancellationToken.None);
        await second.LoadAsync(_store.Store.SigningKeys, "example.org", CancellationToken.None);

        Assert.Equal(first.Current.KeyId, second.Current.KeyId);
        Assert.Equal(first.Current.PublicKey, second.Current.PublicKey);
        Assert.Equal("example.org", first.Current.ServerName);
        var stored = Assert.Single(await _store.Store.SigningKeys.ListAsync(CancellationToken.None));
        Assert.Equal(stored.PublicKey, first.Current.PublicKey);
        Assert.Equal(first.Current.Sign("x"u8), second.Current.Sign("x"u8));
    }

    [Fact]
    public void Before_loading_there_is_no_key_to_sign_with() =>
        Assert.Throws<InvalidOperationException>(() => new LocalSigningKey().Current);

    [Fact]
    public async Task A_stored_public_key_that_does_not_match_its_seed_is_refused()
    {
        await _store.Store.SigningKeys.GetOrCreateCurrentAsync(
            new NewServerSigningKey("ed25519:bad", new byte[32], [.. Enumerable.Repeat((byte)1, 32)], 1), CancellationToken.None);
        using var key = new LocalSigningKey();

        await Assert.ThrowsAsync<InvalidOperationException>(() => key.LoadAsync(_store.Store.SigningKeys, "example.org", CancellationToken.None));
        Assert.Throws<InvalidOperationException>(() => key.Current);
    }
}
