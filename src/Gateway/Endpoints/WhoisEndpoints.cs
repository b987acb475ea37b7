using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// <c>GET /admin/whois/{userId}</c> (client-server/admin.yaml), for server admins and for oneself. The server keeps
/// one session per device with where it was last seen (address and time); it does not record user agents.
/// </summary>
internal static class WhoisEndpoints
{
    public static void MapWhoisEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet("/_matrix/client/v3/admin/whois/{userId}", WhoisAsync);

    private static async Task<IResult> WhoisAsync(HttpContext context, string userId, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        var session = await context.RequireSessionAsync();
        context.RateLimits().RequireForUserHere(session, RateLimitBucket.UserRequests);
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId != session.UserId && !session.IsAdmin) throw AccountErrors.Forbidden("Only server admins may look up other users.");
        var user = grains.GetGrain<IUserGrain>(userId);
        if (!UserId.Parse(userId).Server.Value.Equals(server.Name, StringComparison.Ordinal) || !await user.ExistsAsync())
            throw AccountErrors.NotFound("No such user on this server.");
        var devices = await user.GetDevicesAsync();
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("user_id"u8, userId);
            writer.WriteStartObject("devices"u8);
            foreach (var device in devices)
            {
                writer.WriteStartObject(device.DeviceId);
                writer.WriteStartArray("sessions"u8);
                writer.WriteStartObject();
                writer.WriteStartArray("connections"u8);
                if (device.LastSeenTs is not null || device.LastSeenIp is not null)
                {
                    writer.WriteStartObject();
                    if (device.LastSeenIp is not null) writer.WriteString("ip"u8, device.LastSeenIp);
                    if (device.LastSeenTs is { } lastSeen) writer.WriteNumber("last_seen"u8, lastSeen);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }
}
