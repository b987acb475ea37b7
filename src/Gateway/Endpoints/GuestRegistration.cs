using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Http;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The registration side of the Guest Access module: <c>POST /register?kind=guest</c> and upgrading a guest to a
/// full account with <c>guest_access_token</c>.
/// </summary>
internal static class GuestRegistration
{
    private const int GeneratedIdAttempts = 5;

    public static MatrixException GuestAccessForbidden(string message) =>
        new(StatusCodes.Status403Forbidden, "M_GUEST_ACCESS_FORBIDDEN", message);

    /// <summary>
    /// Creates a guest account and logs it in. As Synapse, it needs no user-interactive authentication and does not
    /// depend on Registration:Mode, only on Registration:AllowGuests; the body's auth, username and password are ignored.
    /// </summary>
    public static async Task<IResult> RegisterGuestAsync(HttpContext context, IGrainFactory grains, RegistrationSettings settings, LocalServer server)
    {
        if (!settings.AllowGuests) throw GuestAccessForbidden("Guest access is not allowed on this server.");
        var limits = context.RateLimits();
        limits.RequireAddressNotExhausted(context, RateLimitBucket.Registration);
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.RegisterRequest, context.RequestAborted);
        limits.RequireForAddress(context, RateLimitBucket.Registration);

        var login = new DeviceLogin(body.DeviceId, body.InitialDeviceDisplayName, RegistrationEndpoints.ClientIp(context));
        for (var attempt = 1; ; attempt++)
        {
            var userId = server.UserId(GuestUserIds.NewLocalpart());
            try
            {
                var result = await grains.GetGrain<IUserGrain>(userId).RegisterGuestAsync(login);
                return RegistrationEndpoints.RegisteredResponse(userId, result, server);
            }
            catch (MatrixRequestException taken) when (taken.ErrCode == "M_USER_IN_USE" && attempt < GeneratedIdAttempts)
            {
            }
        }
    }

    /// <summary>
    /// The guest user id that <paramref name="guestAccessToken"/> authenticates, when the request may upgrade it:
    /// the spec asks for <c>username</c> set to the guest's localpart; as Synapse, a token that is not a guest's or a
    /// username of another user is 403 M_FORBIDDEN.
    /// </summary>
    public static async Task<string> RequireUpgradableGuestAsync(string guestAccessToken, string? username, IGrainFactory grains, LocalServer server)
    {
        if (username is null) throw AccountErrors.MissingParam("Upgrading a guest account needs username, the guest's localpart.");
        var userId = AccessTokens.TryGetUserId(guestAccessToken);
        var session = userId is null ? null : await grains.GetGrain<IUserGrain>(userId).AuthenticateAsync(guestAccessToken);
        if (session is not { IsGuest: true })
            throw AccountErrors.Forbidden("guest_access_token is not the access token of a guest account.");
        if (session.UserId != server.UserId(username))
            throw AccountErrors.Forbidden("Cannot register a taken user id without valid guest credentials for that user.");
        return session.UserId;
    }
}
