using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains;

/// <summary>The base of the homeserver's grains: every one is keyed by a string (a user id, a room id, …).</summary>
public abstract class HomeServerGrain : Grain
{
    protected string Key => this.GetPrimaryKeyString();

    /// <summary>
    /// Runs <see cref="ActivateAsync"/>. A store that cannot be reached fails the activation with the grains'
    /// <see cref="StoreUnavailableError"/>, which reaches the caller as 503 like the same failure inside a call (call
    /// filters do not see activations).
    /// </summary>
    public sealed override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ActivateAsync(cancellationToken);
        }
        catch (StoreUnavailableException e)
        {
            throw new StoreUnavailableError(e.Message);
        }
    }

    /// <summary>What the grain does when it activates (Orleans' <c>OnActivateAsync</c>).</summary>
    protected virtual Task ActivateAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
