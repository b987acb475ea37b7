using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Federation;

/// <summary>Loads (or on the server's first start creates) the signing key before the silo runs any grain.</summary>
public sealed class LocalSigningKeyLoader(IServiceProvider services, LocalSigningKey key) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LocalSigningKeyLoader), ServiceLifecycleStage.ApplicationServices, async cancellationToken =>
        {
            // Silos without a store (some grain tests) run no grain that signs.
            if (services.GetService<IHomeServerStore>() is not { } store) return;
            await key.LoadAsync(store.SigningKeys, services.GetRequiredService<LocalServer>().Name, cancellationToken);
        });
}
