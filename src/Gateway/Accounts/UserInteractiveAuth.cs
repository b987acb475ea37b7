using System.Security.Cryptography;
using System.Text;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Accounts;

/// <summary>
/// User-interactive authentication (spec: "User-Interactive Authentication API"). A session is bound to the request
/// that started it (method, path and user), keeps the stages completed so far in an <see cref="IAuthSessionGrain"/>,
/// and is consumed by the request that completes a flow, so it authorises exactly one operation.
/// </summary>
internal sealed class UserInteractiveAuth(
    IGrainFactory grains,
    PasswordHasher hasher,
    IOptions<RegistrationSettings> registration,
    LocalServer localServer,
    RateLimits limits)
{
    public const string Dummy = "m.login.dummy";
    public const string Password = "m.login.password";
    public const string RegistrationToken = "m.login.registration_token";

    /// <summary>Shorter than the runtime's idle collection age (15 minutes), so a live session's grain is never collected.</summary>
    private static readonly TimeSpan SessionLifetime = TimeSpan.FromMinutes(10);

    private const string SessionIdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const int SessionIdLength = 32;

    /// <summary>
    /// Null when <paramref name="auth"/> completes one of <paramref name="flows"/> (the session is then used up);
    /// otherwise the 401 response asking for the next stage, with the error of a stage that failed.
    /// </summary>
    /// <param name="userId">The authenticated user the operation acts for, or null (registration).</param>
    internal async Task<IResult?> AuthorizeAsync(
        HttpContext context, AuthenticationData? auth, IReadOnlyList<IReadOnlyList<string>> flows, string? userId)
    {
        var operation = $"{context.Request.Method} {context.Request.Path} by {userId ?? "anyone"}";
        var sessionId = auth?.Session;
        if (sessionId is null)
        {
            // Clients may submit a stage without asking first; that starts a session too.
            sessionId = await StartSessionAsync(grains, operation, SessionLifetime);
            if (auth is null) return Challenge(flows, sessionId, [], failure: null);
        }

        var session = IsSessionId(sessionId) ? grains.GetGrain<IAuthSessionGrain>(sessionId) : null;
        var state = session is null ? null : await session.GetAsync();
        if (session is null || state is null) throw UnknownSession(sessionId);
        if (state.Operation != operation)
            throw AccountErrors.Forbidden("Requested operation has changed during the UI authentication session.");

        MatrixError? failure = null;
        if (auth!.Type is { } stage)
        {
            failure = await CheckStageAsync(stage, auth, flows, userId, context.RequestAborted);
            if (failure is null) state = await session.CompleteStageAsync(stage) ?? throw UnknownSession(sessionId);
        }

        if (flows.Any(flow => flow.All(state.Completed.Contains)))
        {
            _ = await session.ConsumeAsync() ?? throw UnknownSession(sessionId);
            return null;
        }
        return Challenge(flows, sessionId, state.Completed, failure);
    }

    /// <summary>Compares with every configured token in constant time: tokens are secrets.</summary>
    public bool IsRegistrationToken(string? token)
    {
        if (token is null) return false;
        var given = Encoding.UTF8.GetBytes(token);
        var found = false;
        foreach (var configured in registration.Value.Tokens)
        {
            found |= CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(configured), given);
        }
        return found;
    }

    /// <summary>Starts a session under a fresh random id (also used for the nonces of shared-secret registration).</summary>
    internal static async Task<string> StartSessionAsync(IGrainFactory grains, string operation, TimeSpan lifetime)
    {
        while (true)
        {
            var sessionId = RandomNumberGenerator.GetString(SessionIdAlphabet, SessionIdLength);
            if (await grains.GetGrain<IAuthSessionGrain>(sessionId).StartAsync(operation, lifetime)) return sessionId;
        }
    }

    /// <summary>Only ids this server could have issued reach a grain, so junk from clients activates nothing.</summary>
    internal static bool IsSessionId(string value) =>
        value.Length == SessionIdLength && value.All(c => char.IsAsciiLetterOrDigit(c));

    private async Task<MatrixError?> CheckStageAsync(
        string stage, AuthenticationData auth, IReadOnlyList<IReadOnlyList<string>> flows, string? userId, CancellationToken cancellationToken)
    {
        if (!flows.Any(flow => flow.Contains(stage)))
            return new MatrixError("M_UNRECOGNIZED", $"Authentication type {stage} is not offered for this request.");
        return stage switch
        {
            Dummy => null,
            RegistrationToken => IsRegistrationToken(auth.Token) ? null : new MatrixError("M_UNAUTHORIZED", "Invalid registration token."),
            Password when userId is not null => await CheckPasswordAsync(auth, userId, cancellationToken),
            _ => new MatrixError("M_UNRECOGNIZED", $"Authentication type {stage} is not supported."),
        };
    }

    private async Task<MatrixError?> CheckPasswordAsync(AuthenticationData auth, string userId, CancellationToken cancellationToken)
    {
        // The stage proves the authenticated user knows their own password; naming the user is optional.
        var named = auth.Identifier is null && auth.User is null ? userId : LoginUser.Resolve(auth.Identifier, auth.User, localServer);
        // As Synapse: a stage for another user is refused with 403, not as a failed stage, and the session stays usable
        // with the right identifier. Unlike Synapse, the other user's password is not checked: the answer would tell
        // whether it is right.
        if (named != userId)
            throw AccountErrors.Forbidden("Invalid auth: the identifier names another user than the one the access token belongs to.");
        if (auth.Password is null) return new MatrixError("M_MISSING_PARAM", "Missing password.");
        // A stolen access token must not become a way around the login limits for guessing the password.
        await limits.RequireNotExhaustedAsync(userId, RateLimitBucket.LoginFailedAttempts);
        var hash = await grains.GetGrain<IUserGrain>(userId).GetPasswordHashAsync();
        if (await hasher.VerifyAsync(auth.Password, hash, cancellationToken)) return null;
        await limits.PenalizeAccountAsync(userId, RateLimitBucket.LoginFailedAttempts, persisted: hash is not null);
        return new MatrixError("M_FORBIDDEN", "Invalid password.");
    }

    private static IResult Challenge(IReadOnlyList<IReadOnlyList<string>> flows, string sessionId, IReadOnlyList<string> completed, MatrixError? failure) =>
        TypedResults.Json(
            new AuthenticationChallenge([.. flows.Select(flow => new AuthenticationFlow(flow))], EmptyObject.Instance, sessionId)
            {
                Completed = completed,
                ErrCode = failure?.ErrCode,
                Error = failure?.Error,
            },
            AccountsJsonContext.Default.AuthenticationChallenge,
            statusCode: StatusCodes.Status401Unauthorized);

    private static MatrixException UnknownSession(string sessionId) =>
        new(StatusCodes.Status400BadRequest, "M_UNKNOWN", $"Unknown session ID: {sessionId}");
}
