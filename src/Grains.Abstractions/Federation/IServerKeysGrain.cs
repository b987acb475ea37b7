using Orleans;

namespace HomeServer.Grains.Federation;

/// <summary>
/// This server's published signing keys (key: any string, e.g. "local"; a stateless worker on every silo).
/// </summary>
[Alias("server-keys")]
public interface IServerKeysGrain : IGrainWithStringKey
{
    /// <summary>
    /// The body of <c>GET /_matrix/key/v2/server</c> as canonical UTF-8 JSON: the current key, the expired ones with
    /// their <c>expired_ts</c>, <c>valid_until_ts</c>, signed by the current key.
    /// </summary>
    [Idempotent]
    Task<byte[]> GetServerKeysAsync();
}
