using HomeServer.Runtime.Invocation;

namespace HomeServer.Runtime.Activation;

/// <summary>A unit of work that runs as one turn of an activation.</summary>
internal abstract class Turn
{
    public abstract Task RunAsync(ActivationData activation);

    /// <summary>The activation is gone before this turn ran; hand the work on or fail it.</summary>
    public abstract void Abandon(Catalog catalog, Exception? activationError);
}

internal sealed class CallTurn(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken) : Turn
{
    private readonly TaskCompletionSource<object?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public GrainMethod Method => method;

    public Task<object?> Completion => _completion.Task;

    public override async Task RunAsync(ActivationData activation)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            _completion.TrySetCanceled(cancellationToken);
            return;
        }
        try
        {
            _completion.TrySetResult(await method.Invoke(activation.Grain, arguments).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            _completion.TrySetException(ex);
        }
    }

    public override void Abandon(Catalog catalog, Exception? activationError)
    {
        if (activationError is not null)
        {
            _completion.TrySetException(activationError);
            return;
        }
        _ = RedirectAsync(catalog);
    }

    private async Task RedirectAsync(Catalog catalog)
    {
        try
        {
            _completion.TrySetResult(await catalog.InvokeAsync(target, method, arguments, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            _completion.TrySetException(ex);
        }
    }
}

internal sealed class TimerTurn(GrainTimer timer) : Turn
{
    public override Task RunAsync(ActivationData activation) => timer.RunTickAsync();

    public override void Abandon(Catalog catalog, Exception? activationError) => timer.Dispose();
}

internal sealed class DeactivationTurn(DeactivationReason reason) : Turn
{
    public override Task RunAsync(ActivationData activation) => activation.DeactivateAsync(reason);

    public override void Abandon(Catalog catalog, Exception? activationError)
    {
    }
}
