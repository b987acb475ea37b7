using System.Buffers;
using System.Text;
using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Presence;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Presence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// GET and PUT /presence/{userId}/status (the spec's Presence module). A user sets only its own presence and sees
/// another's only when the two share a joined room (the rule lives in the presence grain).
/// </summary>
internal static class PresenceEndpoints
{
    public static void MapPresenceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/presence/{userId}/status", GetStatusAsync);
        endpoints.MapPut("/_matrix/client/v3/presence/{userId}/status", SetStatusAsync).WithBodySize(BodySize.Small);
    }

    private static async Task<IResult> GetStatusAsync(HttpContext context, string userId, [FromServices] IGrainFactory grains, [FromServices] LocalServer server)
    {
        var session = await context.RequireSessionAsync();
        if (!UserId.TryParse(userId, out var parsed)) throw AccountErrors.InvalidUserId(userId);
        var local = parsed.Server.Value == server.Name;
        if (local && !await grains.GetGrain<IUserGrain>(userId).ExistsAsync())
            throw AccountErrors.NotFound("No presence is known for this user.");
        PresenceStatus status;
        try
        {
            status = await grains.GetGrain<IPresenceGrain>(userId).GetAsync(session.UserId);
        }
        catch (MatrixRequestException e) when (!local && e.ErrCode == "M_FORBIDDEN")
        {
            // Another server's user: this server knows their presence (m.presence EDUs, docs/adr/0045) only while they
            // share a room with a local user, and the viewer shares none.
            throw AccountErrors.NotFound("No presence is known for this user.");
        }
        return AccountsJsonBody.Bytes(Write(status, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    }

    private static async Task<IResult> SetStatusAsync(
        HttpContext context, string userId, [FromServices] IGrainFactory grains, [FromServices] SyncPresenceMarks syncMarks)
    {
        var session = await context.RequireSessionAsync();
        if (!UserId.IsValid(userId)) throw AccountErrors.InvalidUserId(userId);
        if (userId != session.UserId) throw AccountErrors.Forbidden("You cannot set the presence of another user.");
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var (presence, statusMessage) = ReadStatus(body);
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.Message);
        await grains.GetGrain<IPresenceGrain>(userId).SetAsync(presence, statusMessage);
        syncMarks.Forget(userId);
        return AccountsJsonBody.Empty();
    }

    /// <summary>The body's presence (required, one of the spec's three) and status_msg (optional; null or absent clears it).</summary>
    private static (string Presence, string? StatusMessage) ReadStatus(JsonElement body)
    {
        if (!body.TryGetProperty("presence", out var presence)) throw MatrixException.BadJson("Missing key 'presence'.");
        if (presence.ValueKind != JsonValueKind.String) throw MatrixException.BadJson("presence must be a string.");
        if (!PresenceStates.IsValid(presence.GetString()))
            throw AccountErrors.InvalidParam("presence must be one of online, unavailable, offline.");
        string? statusMessage = null;
        if (body.TryGetProperty("status_msg", out var status) && status.ValueKind != JsonValueKind.Null)
        {
            if (status.ValueKind != JsonValueKind.String) throw MatrixException.BadJson("status_msg must be a string.");
            statusMessage = status.GetString();
            if (Encoding.UTF8.GetByteCount(statusMessage!) > PresenceStates.MaxStatusMessageBytes)
                throw AccountErrors.InvalidParam($"status_msg is at most {PresenceStates.MaxStatusMessageBytes} bytes.");
            if (statusMessage!.Contains('\0')) throw AccountErrors.InvalidParam("status_msg must not contain NUL characters.");
        }
        return (presence.GetString()!, statusMessage);
    }

    /// <summary>
    /// The spec's response: <c>last_active_ago</c> computed now (left out when never active), <c>status_msg</c> when
    /// set, and <c>currently_active</c> only while online, as Synapse writes it.
    /// </summary>
    private static byte[] Write(PresenceStatus status, long nowMs)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("presence"u8, status.Presence);
            if (status.LastActiveTs > 0) writer.WriteNumber("last_active_ago"u8, Math.Max(0, nowMs - status.LastActiveTs));
            if (status.StatusMessage is not null) writer.WriteString("status_msg"u8, status.StatusMessage);
            if (status.Presence == PresenceStates.Online) writer.WriteBoolean("currently_active"u8, status.CurrentlyActive);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
