using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Third-party networks (client-server/third_party_lookup.yaml) and the application service endpoints
/// (appservice_ping.yaml, the appservice room list of list_public_rooms.yaml). Protocols come from application
/// services and this server has none: no protocol is known, look-ups by Matrix id find nothing, and no access token
/// is an application service's.
/// </summary>
internal static class ThirdPartyLookupEndpoints
{
    public static void MapThirdPartyLookupEndpoints(this IEndpointRouteBuilder endpoints)
    {
        const string V3 = "/_matrix/client/v3/thirdparty";
        endpoints.MapGet(V3 + "/protocols", (Delegate)((HttpContext context) => AnswerAsync(context, "{}"u8.ToArray())));
        endpoints.MapGet(V3 + "/protocol/{protocol}", (HttpContext context, string protocol) => UnknownProtocolAsync(context));
        endpoints.MapGet(V3 + "/location/{protocol}", (HttpContext context, string protocol) => UnknownProtocolAsync(context));
        endpoints.MapGet(V3 + "/user/{protocol}", (HttpContext context, string protocol) => UnknownProtocolAsync(context));
        endpoints.MapGet(V3 + "/location", (Delegate)((HttpContext context) => LookUpAsync(context, "alias")));
        endpoints.MapGet(V3 + "/user", (Delegate)((HttpContext context) => LookUpAsync(context, "userid")));

        endpoints.MapPost("/_matrix/client/v1/appservice/{appserviceId}/ping", (HttpContext context, string appserviceId) => NotAnApplicationServiceAsync(context));
        endpoints.MapPut("/_matrix/client/v3/directory/list/appservice/{networkId}/{roomId}",
            (HttpContext context, string networkId, string roomId) => NotAnApplicationServiceAsync(context));
    }

    private static async Task<IResult> AnswerAsync(HttpContext context, byte[] json)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        return AccountsJsonBody.Bytes(json);
    }

    private static async Task<IResult> UnknownProtocolAsync(HttpContext context)
    {
        await AnswerAsync(context, []);
        throw AccountErrors.NotFound("No application service provides this protocol.");
    }

    private static async Task<IResult> LookUpAsync(HttpContext context, string parameter)
    {
        var answer = await AnswerAsync(context, "[]"u8.ToArray());
        if (string.IsNullOrEmpty(context.Request.Query[parameter].ToString())) throw AccountErrors.MissingParam($"Missing parameter: {parameter}.");
        return answer;
    }

    private static async Task<IResult> NotAnApplicationServiceAsync(HttpContext context)
    {
        await context.RequireSessionAsync();
        throw new MatrixException(StatusCodes.Status403Forbidden, "M_FORBIDDEN",
            "The access token is not an application service's: this server has no application services.");
    }
}
