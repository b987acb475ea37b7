namespace HomeServer.Grains.Events;

/// <summary>The outcome of an authorization check: allowed, or rejected with a reason.</summary>
public sealed class AuthResult
{
    public static AuthResult Allow { get; } = new(null);

    private AuthResult(string? reason) => Reason = reason;

    public bool IsAllowed => Reason is null;

    /// <summary>Why the event was rejected; null when allowed.</summary>
    public string? Reason { get; }

    public static AuthResult Reject(string reason) => new(reason);

    public override string ToString() => IsAllowed ? "allowed" : $"rejected: {Reason}";
}
