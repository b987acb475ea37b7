using Orleans;
using Orleans.Placement;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// Holds one session in memory. The lifetimes callers choose stay below the runtime's idle collection age, so an
/// activation is never collected while its session is still valid; an ended session deactivates its grain at once.
/// Never moved by the rebalancer: the session exists only in this activation.
/// </summary>
[GrainType("auth-session")]
[Immovable(ImmovableKind.Any)]
public sealed class AuthSessionGrain : HomeServerGrain, IAuthSessionGrain
{
    private readonly TimeProvider _time = TimeProvider.System;
    private AuthSession? _session;
    private bool _started;

    public Task<bool> StartAsync(string operation, TimeSpan lifetime)
    {
        if (_started) return Task.FromResult(false);
        _started = true;
        _session = new AuthSession(operation, lifetime, _time.GetUtcNow());
        return Task.FromResult(true);
    }

    public Task<AuthSessionState?> GetAsync() => Task.FromResult(Live()?.State);

    public Task<AuthSessionState?> CompleteStageAsync(string stage)
    {
        var session = Live();
        session?.Complete(stage, _time.GetUtcNow());
        return Task.FromResult(session?.State);
    }

    public Task<AuthSessionState?> ConsumeAsync()
    {
        var session = Live();
        End();
        return Task.FromResult(session?.State);
    }

    private AuthSession? Live()
    {
        if (_session is { } session && session.IsExpired(_time.GetUtcNow())) End();
        return _session;
    }

    private void End()
    {
        _session = null;
        DeactivateOnIdle();
    }
}
