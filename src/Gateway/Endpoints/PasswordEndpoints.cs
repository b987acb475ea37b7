using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Changing the password of the logged-in user, confirmed with the current password.</summary>
internal static class PasswordEndpoints
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> Flows = [[UserInteractiveAuth.Password]];

    public static void MapPasswordEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/_matrix/client/v3/account/password", ChangePasswordAsync).WithBodySize(BodySize.Small);

    private static async Task<IResult> ChangePasswordAsync(
        HttpContext context,
        [FromServices] IGrainFactory grains,
        [FromServices] UserInteractiveAuth uia,
        [FromServices] PasswordHasher hasher,
        [FromServices] AccountPasswords passwords)
    {
        // Without email or other third-party identifiers there is no way to prove who is asking but a session.
        var session = await context.RequireSessionAsync();
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.ChangePasswordRequest, context.RequestAborted);
        passwords.RequireAcceptable(body.NewPassword, "new_password");
        if (await uia.AuthorizeAsync(context, body.Auth, Flows, session.UserId) is { } challenge) return challenge;

        var passwordHash = await hasher.HashAsync(body.NewPassword, context.RequestAborted);
        await grains.GetGrain<IUserGrain>(session.UserId).ChangePasswordAsync(passwordHash, body.LogoutDevices ?? true, session.DeviceId);
        return AccountsJsonBody.Empty();
    }
}
