using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Cluster;

/// <summary>
/// Turns the store's <see cref="StoreUnavailableException"/> into the grains' <see cref="StoreUnavailableError"/> as a call
/// leaves its grain, so callers (the gateway) need to know grains, not the store.
/// </summary>
public sealed class StoreFailureFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (StoreUnavailableException e)
        {
            throw new StoreUnavailableError(e.Message);
        }
    }
}
