using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Voip;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Endpoints;

/// <summary><c>GET /voip/turnServer</c> (client-server/voip.yaml) from <see cref="VoipOptions"/>.</summary>
internal static class VoipEndpoints
{
    public static void MapVoipEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/_matrix/client/v3/voip/turnServer", GetTurnServerAsync);

    private static async Task<IResult> GetTurnServerAsync(HttpContext context, [FromServices] IOptions<VoipOptions> options)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        var voip = options.Value;
        // As Synapse: no TURN server configured is an empty object, which clients read as "none".
        if (voip.TurnUris.Length == 0) return AccountsJsonBody.Bytes("{}"u8.ToArray());
        var ttl = (long)voip.TurnUserLifetime.TotalSeconds;
        var (username, password) = string.IsNullOrEmpty(voip.TurnSharedSecret)
            ? (voip.TurnUsername!, voip.TurnPassword!)
            : TurnCredentials.Create(voip.TurnSharedSecret, session.UserId, DateTimeOffset.UtcNow.AddSeconds(ttl));
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("username"u8, username);
            writer.WriteString("password"u8, password);
            writer.WriteStartArray("uris"u8);
            foreach (var uri in voip.TurnUris) writer.WriteStringValue(uri);
            writer.WriteEndArray();
            writer.WriteNumber("ttl"u8, ttl);
            writer.WriteEndObject();
        });
    }
}
