namespace HomeServer.Storage;

/// <summary>
/// The server's own Ed25519 signing keys (docs/adr/0031-server-signing-keys.md). There is at most one current key at
/// any time; expired keys keep only their public half. Key ids are the full names such as <c>ed25519:a1B2c3</c>.
/// </summary>
public interface IServerSigningKeyStore
{
    /// <summary>
    /// The current key. When there is none, <paramref name="candidate"/> becomes it; when several callers race (silos
    /// starting at once on one database), exactly one candidate wins and every caller gets the winner.
    /// </summary>
    Task<ServerSigningKeyRecord> GetOrCreateCurrentAsync(NewServerSigningKey candidate, CancellationToken cancellationToken);

    /// <summary>Every key, current and expired, oldest first.</summary>
    Task<IReadOnlyList<ServerSigningKeyRecord>> ListAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Expires the current key at <paramref name="expiredTs"/> (erasing its seed) and makes <paramref name="next"/> the
    /// current key, in one transaction. False, and nothing changed, when <paramref name="currentKeyId"/> is not the
    /// current key (another rotation came first).
    /// </summary>
    Task<bool> RotateAsync(string currentKeyId, NewServerSigningKey next, long expiredTs, CancellationToken cancellationToken);
}

/// <summary>A key to store: its 32-byte Ed25519 public key and the 32-byte seed of its private key.</summary>
public sealed record NewServerSigningKey(string KeyId, byte[] PublicKey, byte[] Seed, long CreatedTs);

/// <summary>A stored key; <see cref="Seed"/> is null and <see cref="ExpiredTs"/> set once it has expired.</summary>
public sealed record ServerSigningKeyRecord(string KeyId, byte[] PublicKey, byte[]? Seed, long CreatedTs, long? ExpiredTs)
{
    public bool IsCurrent => ExpiredTs is null;
}
