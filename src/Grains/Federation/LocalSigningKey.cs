using HomeServer.Grains.Federation.Signing;
using HomeServer.Storage;

namespace HomeServer.Grains.Federation;

/// <summary>
/// The signing key of this server, loaded from the store once per silo when it starts (created there on the first
/// start of the server) and used to sign every event the server creates and its key publication.
/// </summary>
public sealed class LocalSigningKey : IDisposable
{
    private ServerSigningKey? _current;

    public ServerSigningKey Current => _current ?? throw new InvalidOperationException("The server signing key is not loaded yet.");

    /// <summary>Loads the current key of <paramref name="serverName"/>, creating and storing a new one when the store has none.</summary>
    public async Task LoadAsync(IServerSigningKeyStore store, string serverName, CancellationToken cancellationToken)
    {
        var (keyId, seed) = ServerSigningKey.NewSeed();
        var candidate = new NewServerSigningKey(keyId, ServerSigningKey.PublicKeyOf(seed), seed, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var stored = await store.GetOrCreateCurrentAsync(candidate, cancellationToken);
        var key = ServerSigningKey.FromSeed(serverName, stored.KeyId, stored.Seed
            ?? throw new InvalidOperationException($"The current signing key {stored.KeyId} has no private key in the store."));
        if (!key.PublicKey.AsSpan().SequenceEqual(stored.PublicKey))
        {
            key.Dispose();
            throw new InvalidOperationException($"The stored public key of {stored.KeyId} does not belong to its private key.");
        }
        Interlocked.Exchange(ref _current, key)?.Dispose();
    }

    public void Dispose() => _current?.Dispose();
}
