using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Federation.Keys;

[GrainType("remote-server-keys")]
public sealed class RemoteServerKeysGrain(FederationClient client, LocalSigningKey localKey, LocalServer local, TimeProvider time, ILogger<RemoteServerKeysGrain> logger)
    : HomeServerGrain, IRemoteServerKeysGrain
{
    /// <summary>
    /// After a fetch, how long a key the cache does not hold is not fetched again: a server is not asked more often
    /// than this however many requests name an unknown key of it.
    /// </summary>
    public static readonly TimeSpan RefetchInterval = TimeSpan.FromSeconds(30);

    private RemoteServerKeys? _keys;
    private DateTimeOffset _lastFetch = DateTimeOffset.MinValue;

    public async Task<byte[]?> GetVerifyKeyAsync(string keyId, long atTs)
    {
        if (Key == local.Name)
            return keyId == localKey.Current.KeyId ? localKey.Current.PublicKey : null;
        if (_keys?.KeyValidAt(keyId, atTs) is { } cached) return cached;
        if (time.GetUtcNow() - _lastFetch < RefetchInterval) return null;
        await FetchAsync();
        return _keys?.KeyValidAt(keyId, atTs);
    }

    public async Task<byte[]?> GetNotarisedKeysAsync(long minimumValidUntilTs)
    {
        if (_keys is null || _keys.PublishedValidUntilTs < minimumValidUntilTs)
        {
            if (time.GetUtcNow() - _lastFetch >= RefetchInterval) await FetchAsync();
        }
        if (_keys is null) return null;
        var notarised = (System.Text.Json.Nodes.JsonObject)_keys.Response.DeepClone();
        return CanonicalJson.Encode(JsonSigning.Sign(notarised, localKey.Current));
    }

    private async Task FetchAsync()
    {
        _lastFetch = time.GetUtcNow();
        try
        {
            var response = await client.GetUnsignedAsync(Key, "/_matrix/key/v2/server", CancellationToken.None);
            if (!response.IsSuccess)
            {
                logger.LogInformation("Keys of {Server}: answered {Status}", Key, (int)response.StatusCode);
                return;
            }
            if (RemoteServerKeys.TryParse(response.Body, Key, _lastFetch.ToUnixTimeMilliseconds(), out var keys, out var error))
                _keys = keys;
            else
                logger.LogWarning("Keys of {Server} refused: {Error}", Key, error);
        }
        catch (FederationRequestException exception)
        {
            logger.LogInformation("Keys of {Server} could not be fetched: {Message}", Key, exception.Message);
        }
    }
}
