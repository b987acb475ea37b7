using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Synapse's shared-secret registration (<c>/_synapse/admin/v1/register</c>), so that its tools can create the
/// first (admin) accounts: GET hands out a single-use nonce, POST registers with an HMAC of it made with the
/// configured secret. Errors match Synapse's; it works whatever the registration mode.
/// </summary>
internal static class SharedSecretRegistrationEndpoints
{
    private const string Path = "/_synapse/admin/v1/register";
    private const string NonceOperation = "shared-secret registration";

    /// <summary>As Synapse: a nonce is good for one minute.</summary>
    private static readonly TimeSpan NonceLifetime = TimeSpan.FromMinutes(1);

    /// <summary>As Synapse: longer names and passwords are refused before any work.</summary>
    private const int MaxFieldLength = 512;

    public static void MapSharedSecretRegistrationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, GetNonceAsync);
        endpoints.MapPost(Path, RegisterAsync).WithBodySize(BodySize.Small);
    }

    private static async Task<IResult> GetNonceAsync([FromServices] IGrainFactory grains, [FromServices] IOptions<RegistrationSettings> settings)
    {
        // Synapse hands out nonces even when disabled; they could never be used, so this refuses as its POST does.
        RequireEnabled(settings.Value);
        var nonce = await UserInteractiveAuth.StartSessionAsync(grains, NonceOperation, NonceLifetime);
        return TypedResults.Json(new NonceResponse(nonce), AccountsJsonContext.Default.NonceResponse);
    }

    private static async Task<IResult> RegisterAsync(
        HttpContext context,
        [FromServices] IGrainFactory grains,
        [FromServices] PasswordHasher hasher,
        [FromServices] IOptions<RegistrationSettings> settings,
        [FromServices] LocalServer server)
    {
        var sharedSecret = RequireEnabled(settings.Value);
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.SharedSecretRegisterRequest, context.RequestAborted);

        var nonce = body.Nonce ?? throw MatrixException.BadJson("nonce must be specified");
        // Used up by this request whatever happens next, as in Synapse.
        var state = UserInteractiveAuth.IsSessionId(nonce) ? await grains.GetGrain<IAuthSessionGrain>(nonce).ConsumeAsync() : null;
        if (state?.Operation != NonceOperation) throw BadRequest("unrecognised nonce");

        var username = body.Username ?? throw MatrixException.BadJson("username must be specified");
        if (username.Length > MaxFieldLength || username.Contains('\0')) throw BadRequest("Invalid username");
        var password = body.Password ?? throw MatrixException.BadJson("password must be specified");
        if (password.Length > MaxFieldLength || password.Contains('\0')) throw BadRequest("Invalid password");
        if (body.UserType is not null) throw BadRequest("Invalid user type");
        var mac = body.Mac ?? throw MatrixException.BadJson("mac must be specified");
        var admin = body.Admin == true;
        if (!SharedSecretMac.Matches(SharedSecretMac.Compute(sharedSecret, nonce, username, password, admin), mac))
            throw AccountErrors.Forbidden("HMAC incorrect");

        // The MAC covers the username as given; the account gets it in lower case, as in Synapse.
        var userId = await RegistrationEndpoints.RequireAvailableAsync(username.ToLowerInvariant(), grains, server);
        var passwordHash = await hasher.HashAsync(password, context.RequestAborted);
        var login = body.InhibitLogin == true ? null : new DeviceLogin(body.DeviceId, body.InitialDeviceDisplayName, RegistrationEndpoints.ClientIp(context));
        var result = await grains.GetGrain<IUserGrain>(userId).RegisterAsync(new AccountRegistration(passwordHash, admin, body.DisplayName, login));
        return RegistrationEndpoints.RegisteredResponse(userId, result, server);
    }

    private static string RequireEnabled(RegistrationSettings settings) =>
        settings.SharedSecret ?? throw BadRequest("Shared secret registration is not enabled");

    private static MatrixException BadRequest(string message) => new(StatusCodes.Status400BadRequest, "M_UNKNOWN", message);
}
