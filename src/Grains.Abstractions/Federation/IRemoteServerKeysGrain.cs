using Orleans;

namespace HomeServer.Grains.Federation;

/// <summary>
/// The signing keys of one other server (key: its server name), fetched from its <c>/_matrix/key/v2/server</c> and
/// kept in memory while the grain is active; one activation per server in the cluster, so a burst of requests from
/// a new server fetches its keys once.
/// </summary>
[Alias("remote-server-keys")]
public interface IRemoteServerKeysGrain : IGrainWithStringKey
{
    /// <summary>
    /// The 32-byte Ed25519 public key <paramref name="keyId"/> of the server if it may verify what was signed at
    /// <paramref name="atTs"/> (ms), fetching the server's keys when none cached covers it; null when the server has
    /// no such key or cannot be reached.
    /// </summary>
    [Idempotent]
    Task<byte[]?> GetVerifyKeyAsync(string keyId, long atTs);

    /// <summary>
    /// For the notary endpoints: the server's key answer as it signed it, with this server's signature added, as
    /// canonical JSON; fetched again when the cached one expires before <paramref name="minimumValidUntilTs"/> (the
    /// cached one is still returned when that fails). Null when no answer was ever had.
    /// </summary>
    [Idempotent]
    Task<byte[]?> GetNotarisedKeysAsync(long minimumValidUntilTs);
}
