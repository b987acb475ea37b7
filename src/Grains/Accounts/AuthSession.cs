namespace HomeServer.Grains.Accounts;

/// <summary>The state of one authentication session, with an expiry that every completed stage pushes back.</summary>
internal sealed class AuthSession(string operation, TimeSpan lifetime, DateTimeOffset now)
{
    private readonly List<string> _completed = [];
    private DateTimeOffset _expiresAt = now + lifetime;

    public bool IsExpired(DateTimeOffset at) => at >= _expiresAt;

    public void Complete(string stage, DateTimeOffset at)
    {
        if (!_completed.Contains(stage)) _completed.Add(stage);
        _expiresAt = at + lifetime;
    }

    public AuthSessionState State => new(operation, [.. _completed]);
}
