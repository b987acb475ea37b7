using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Grains.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The end-to-end encryption key endpoints (the spec's /keys/*). The rules live in the key grains: a user's writes go
/// to its own <see cref="IDeviceKeysGrain"/>, reads and claims to the local <see cref="IKeyQueryGrain"/> worker.
/// </summary>
internal static class KeysEndpoints
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> CrossSigningFlows = [[UserInteractiveAuth.Password]];

    public static void MapKeysEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/_matrix/client/v3/keys/upload", UploadAsync);
        endpoints.MapPost("/_matrix/client/v3/keys/query", QueryAsync);
        endpoints.MapPost("/_matrix/client/v3/keys/claim", ClaimAsync);
        endpoints.MapGet("/_matrix/client/v3/keys/changes", ChangesAsync);
        endpoints.MapPost("/_matrix/client/v3/keys/device_signing/upload", UploadCrossSigningAsync);
        endpoints.MapPost("/_matrix/client/v3/keys/signatures/upload", UploadSignaturesAsync);
    }

    private static async Task<IResult> UploadAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        return AccountsJsonBody.Bytes(await grains.GetGrain<IDeviceKeysGrain>(session.UserId).UploadAsync(session.DeviceId, body));
    }

    private static async Task<IResult> QueryAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        return AccountsJsonBody.Bytes(await grains.GetGrain<IKeyQueryGrain>("local").QueryAsync(session.UserId, body));
    }

    private static async Task<IResult> ClaimAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        return AccountsJsonBody.Bytes(await grains.GetGrain<IKeyQueryGrain>("local").ClaimAsync(body));
    }

    private static async Task<IResult> ChangesAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        string? from = context.Request.Query["from"], to = context.Request.Query["to"];
        if (string.IsNullOrEmpty(from)) throw new MatrixException(StatusCodes.Status400BadRequest, "M_MISSING_PARAM", "from is required.");
        if (string.IsNullOrEmpty(to)) throw new MatrixException(StatusCodes.Status400BadRequest, "M_MISSING_PARAM", "to is required.");
        return AccountsJsonBody.Bytes(await grains.GetGrain<IKeyQueryGrain>("local").GetChangesAsync(session.UserId, from, to));
    }

    /// <summary>
    /// Replacing cross-signing keys needs user-interactive auth; the first upload of a user who has none needs none, as
    /// Synapse allows (the spec asks for auth only to replace existing keys in a way the user did not approve).
    /// </summary>
    private static async Task<IResult> UploadCrossSigningAsync(
        HttpContext context, [FromServices] IGrainFactory grains, [FromServices] UserInteractiveAuth uia)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var keys = grains.GetGrain<IDeviceKeysGrain>(session.UserId);
        if (await keys.HasCrossSigningKeysAsync()
            && await uia.AuthorizeAsync(context, ReadAuth(body), CrossSigningFlows, session.UserId) is { } challenge)
            return challenge;
        await keys.UploadCrossSigningKeysAsync(body);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> UploadSignaturesAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        return AccountsJsonBody.Bytes(await grains.GetGrain<IDeviceKeysGrain>(session.UserId).UploadSignaturesAsync(body));
    }

    private static AuthenticationData? ReadAuth(JsonElement body)
    {
        if (!body.TryGetProperty("auth", out var auth) || auth.ValueKind == JsonValueKind.Null) return null;
        try
        {
            return auth.Deserialize(AccountsJsonContext.Default.AuthenticationData);
        }
        catch (JsonException)
        {
            throw MatrixException.BadJson("auth must be an authentication object.");
        }
    }
}
