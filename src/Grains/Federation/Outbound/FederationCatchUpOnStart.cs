using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Federation.Outbound;

/// <summary>
/// Once the silo runs, wakes the sender of every destination the store knows, so what a destination missed while this
/// server was down (or its sender was not active) is sent without waiting for the room's next event. Every silo of a
/// cluster does it; a sender already at work ignores the call.
/// </summary>
public sealed class FederationCatchUpOnStart(IServiceProvider services, ILogger<FederationCatchUpOnStart> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(FederationCatchUpOnStart), ServiceLifecycleStage.Active, cancellationToken =>
        {
            if (services.GetService<IHomeServerStore>() is not { } store) return Task.CompletedTask;
            var grains = services.GetRequiredService<IGrainFactory>();
            // The start does not wait for other servers' senders.
            _ = Task.Run(async () =>
            {
                try
                {
                    var destinations = (await store.FederationDestinations.ListAsync(CancellationToken.None))
                        .Union(await store.FederationOutbox.ListDestinationsAsync(CancellationToken.None), StringComparer.Ordinal);
                    foreach (var destination in destinations)
                        await grains.GetGrain<IFederationDestinationGrain>(destination).WakeAsync();
                }
                catch (Exception e)
                {
                    logger.LogWarning(e, "Waking the federation senders after the start failed; they resume with their rooms' next events");
                }
            });
            return Task.CompletedTask;
        });
}
