namespace HomeServer.Gateway.Health;

/// <summary>
/// Whether this process wants new traffic. A drain marks it not ready first, so load balancers
/// stop sending requests before anything is torn down; <c>/health/ready</c> reports it.
/// </summary>
public sealed class ReadinessState
{
    private volatile string? _notReadyReason;

    public bool IsReady => _notReadyReason is null;

    public string? NotReadyReason => _notReadyReason;

    public void MarkNotReady(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        _notReadyReason = reason;
    }

    public void MarkReady() => _notReadyReason = null;
}
