using Orleans;

namespace HomeServer.Grains.Accounts;

/// <param name="Operation">What the session may authorise, e.g. the method and path and the user.</param>
/// <param name="Completed">The user-interactive authentication stages completed so far, in order.</param>
[GenerateSerializer, Alias("hs.AuthSessionState")]
public sealed record AuthSessionState(string Operation, IReadOnlyList<string> Completed);

/// <summary>
/// A short-lived server-side challenge (key: its random id): a user-interactive authentication session, or the
/// nonce of shared-secret registration. Living in a grain, it is visible from every gateway. It is kept in memory
/// only: a session lost with its silo makes the client start again, which the protocol allows.
/// </summary>
[Alias("auth-session")]
public interface IAuthSessionGrain : IGrainWithStringKey
{
    /// <summary>Starts the session; false when this id is already in use. It expires after <paramref name="lifetime"/> without use.</summary>
    Task<bool> StartAsync(string operation, TimeSpan lifetime);

    /// <summary>The session, or null when it does not exist, has expired or was consumed.</summary>
    [Idempotent]
    Task<AuthSessionState?> GetAsync();

    /// <summary>Records a completed stage; null when the session is gone.</summary>
    Task<AuthSessionState?> CompleteStageAsync(string stage);

    /// <summary>Ends the session and returns what it was, so it authorises at most one operation; null when it was already gone.</summary>
    Task<AuthSessionState?> ConsumeAsync();
}
