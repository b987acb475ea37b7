using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Third-party identifiers (client-server/administrative_contact.yaml and the requestToken endpoints of
/// registration.yaml). The server sends no email or SMS and trusts no identity server, so no account ever has a 3PID:
/// the list is empty, validation is refused with <c>M_THREEPID_MEDIUM_NOT_SUPPORTED</c>, adding fails because no
/// validation session can exist, binding fails because no identity server is trusted, and removing finds nothing to
/// unbind (<c>no-support</c>). Each request's body is checked first, as the spec describes it.
/// </summary>
internal static class ThreePidEndpoints
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> AddFlows = [[UserInteractiveAuth.Password]];

    public static void MapThreePidEndpoints(this IEndpointRouteBuilder endpoints)
    {
        const string V3 = "/_matrix/client/v3";
        endpoints.MapGet(V3 + "/account/3pid", (Delegate)ListAsync);
        foreach (var path in new[] { "/register", "/account/password", "/account/3pid" })
        {
            endpoints.MapPost(V3 + path + "/email/requestToken", (Delegate)((HttpContext context) => RequestTokenAsync(context, EmailFields)))
                .WithBodySize(BodySize.Small);
            endpoints.MapPost(V3 + path + "/msisdn/requestToken", (Delegate)((HttpContext context) => RequestTokenAsync(context, MsisdnFields)))
                .WithBodySize(BodySize.Small);
        }
        endpoints.MapPost(V3 + "/account/3pid/add", AddAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost(V3 + "/account/3pid/bind", (Delegate)BindAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost(V3 + "/account/3pid", (Delegate)AddDeprecatedAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost(V3 + "/account/3pid/delete", (Delegate)RemoveAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost(V3 + "/account/3pid/unbind", (Delegate)RemoveAsync).WithBodySize(BodySize.Small);
    }

    private static readonly string[] EmailFields = ["client_secret", "email"];
    private static readonly string[] MsisdnFields = ["client_secret", "country", "phone_number"];

    private static async Task<IResult> ListAsync(HttpContext context)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("threepids"u8);
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> RequestTokenAsync(HttpContext context, string[] stringFields)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        RequireStrings(body, stringFields);
        if (!body.TryGetProperty("send_attempt", out var attempt)) throw AccountErrors.MissingParam("Missing parameter: send_attempt.");
        if (attempt.ValueKind != JsonValueKind.Number || !attempt.TryGetInt64(out _)) throw MatrixException.BadJson("send_attempt must be an integer.");
        throw new MatrixException(StatusCodes.Status400BadRequest, "M_THREEPID_MEDIUM_NOT_SUPPORTED",
            "This server does not send validation tokens by email or SMS.");
    }

    private static async Task<IResult> AddAsync(HttpContext context, [FromServices] UserInteractiveAuth uia)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var auth = body.TryGetProperty("auth", out var authElement) && authElement.ValueKind != JsonValueKind.Null
            ? ReadAuth(authElement)
            : null;
        RequireStrings(body, "client_secret", "sid");
        if (await uia.AuthorizeAsync(context, auth, AddFlows, session.UserId) is { } challenge) return challenge;
        throw NoValidationSession();
    }

    private static async Task<IResult> BindAsync(HttpContext context)
    {
        await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        RequireStrings(body, "client_secret", "id_server", "id_access_token", "sid");
        throw new MatrixException(StatusCodes.Status400BadRequest, "M_SERVER_NOT_TRUSTED", "This server trusts no identity server.");
    }

    private static async Task<IResult> AddDeprecatedAsync(HttpContext context)
    {
        await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        if (!body.TryGetProperty("three_pid_creds", out var creds)) throw AccountErrors.MissingParam("Missing parameter: three_pid_creds.");
        if (creds.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("three_pid_creds must be an object.");
        RequireStrings(creds, "client_secret", "sid");
        throw new MatrixException(StatusCodes.Status403Forbidden, "M_THREEPID_AUTH_FAILED", "No validation session with this sid exists.");
    }

    private static async Task<IResult> RemoveAsync(HttpContext context)
    {
        await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        RequireStrings(body, "medium", "address");
        JsonWriterResult.OptionalString(body, "id_server");
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id_server_unbind_result"u8, "no-support");
            writer.WriteEndObject();
        });
    }

    private static AuthenticationData ReadAuth(JsonElement auth)
    {
        if (auth.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("auth must be an object.");
        try
        {
            return auth.Deserialize(AccountsJsonContext.Default.AuthenticationData)!;
        }
        catch (JsonException)
        {
            throw MatrixException.BadJson("auth is not a valid authentication object.");
        }
    }

    private static void RequireStrings(JsonElement body, params string[] names)
    {
        foreach (var name in names)
        {
            if (JsonWriterResult.OptionalString(body, name) is null) throw AccountErrors.MissingParam($"Missing parameter: {name}.");
        }
    }

    private static MatrixException NoValidationSession() =>
        new(StatusCodes.Status400BadRequest, "M_THREEPID_AUTH_FAILED", "No validation session with this sid exists.");
}
