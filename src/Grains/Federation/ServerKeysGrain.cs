using HomeServer.Storage;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Federation;

[GrainType("server-keys")]
[StatelessWorker]
public sealed class ServerKeysGrain(IHomeServerStore store, LocalSigningKey key, IOptions<ServerKeyOptions> options) : HomeServerGrain, IServerKeysGrain
{
    public async Task<byte[]> GetServerKeysAsync()
    {
        var stored = await store.SigningKeys.ListAsync(CancellationToken.None);
        var validUntil = DateTimeOffset.UtcNow.Add(options.Value.KeyResponseValidity).ToUnixTimeMilliseconds();
        return ServerKeysResponse.Build(key.Current, stored, validUntil);
    }
}
