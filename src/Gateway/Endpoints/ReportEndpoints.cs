using System.Text.Json;
using System.Text.Json.Serialization;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Reports;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Reporting content (client-server/report_content.yaml): rooms, events and users, kept for the server's admins, who
/// list them at <c>GET /_homeserver/admin/reports</c>. An event can be reported only by a member of its room, and the
/// answer for an unknown event is the answer for a room the reporter is not in, so nothing leaks to outsiders.
/// </summary>
internal static class ReportEndpoints
{
    private const int DefaultListLimit = 100;

    public static void MapReportEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/_matrix/client/v3/rooms/{roomId}/report/{eventId}", ReportEventAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost("/_matrix/client/v3/rooms/{roomId}/report", ReportRoomAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost("/_matrix/client/v3/users/{userId}/report", ReportUserAsync).WithBodySize(BodySize.Small);
        endpoints.MapGet("/_homeserver/admin/reports", ListReportsAsync);
    }

    private static async Task<IResult> ReportEventAsync(HttpContext context, string roomId, string eventId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        eventId = RoomPath.EventId(eventId);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var reason = OptionalString(body, "reason");
        var score = OptionalScore(body);

        var room = grains.GetGrain<IRoomGrain>(roomId);
        if (!await room.IsJoinedAsync(session.UserId))
            throw AccountErrors.NotFound("The event was not found or you are not joined to the room.");
        // M_NOT_FOUND when the event is not in this room or not visible to the reporter.
        await room.GetEventAsync(new Reader(session.UserId, session.DeviceId), eventId);

        await Reports(grains).AddAsync(new ContentReport(session.UserId, roomId, eventId, null, reason, score));
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> ReportRoomAsync(HttpContext context, string roomId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var reason = RequiredReason(await AccountsJsonBody.ReadObjectAsync(context.Request));
        if (await grains.GetGrain<IRoomGrain>(roomId).GetPublicSummaryAsync() is null)
            throw AccountErrors.NotFound("The room was not found.");
        await Reports(grains).AddAsync(new ContentReport(session.UserId, roomId, null, null, reason, null));
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> ReportUserAsync(HttpContext context, string userId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        userId = RoomPath.UserId(userId);
        var reason = RequiredReason(await AccountsJsonBody.ReadObjectAsync(context.Request));
        if (!await grains.GetGrain<IUserGrain>(userId).ExistsAsync())
            throw AccountErrors.NotFound("The user was not found.");
        await Reports(grains).AddAsync(new ContentReport(session.UserId, null, null, userId, reason, null));
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> ListReportsAsync(HttpContext context, [FromServices] IGrainFactory grains, string? from, string? limit)
    {
        await context.RequireAdminSessionAsync();
        long? before = null;
        if (from is not null)
            before = long.TryParse(from, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                ? parsed : throw AccountErrors.InvalidParam("from must be a token from next_batch.");
        var count = DefaultListLimit;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count) || count < 1))
            throw AccountErrors.InvalidParam("limit must be a positive integer.");

        var page = await Reports(grains).ListAsync(before, count);
        var reports = page.Reports.Select(r => new ReportEntry(
            r.Id, r.Report.ReporterUserId, r.ReceivedTs, r.Report.RoomId, r.Report.EventId, r.Report.TargetUserId, r.Report.Reason, r.Report.Score)).ToArray();
        var next = page.NextBefore?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Json(new ReportList(reports, next), ReportJsonContext.Default.ReportList);
    }

    private static IContentReportsGrain Reports(IGrainFactory grains) => grains.GetGrain<IContentReportsGrain>("local");

    private static string RequiredReason(JsonElement body) =>
        OptionalString(body, "reason") ?? throw AccountErrors.MissingParam("reason is required (it may be blank).");

    private static string? OptionalString(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : throw MatrixException.BadJson($"{name} must be a string.")
            : null;

    /// <summary>score, removed from the spec in v1.18 but still sent by older clients: an integer from -100 to 0.</summary>
    private static long? OptionalScore(JsonElement body)
    {
        if (!body.TryGetProperty("score", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var score))
            throw MatrixException.BadJson("score must be an integer.");
        return score is >= -100 and <= 0 ? score : throw AccountErrors.InvalidParam("score must be between -100 and 0.");
    }
}

internal sealed record ReportEntry(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("reporter")] string Reporter,
    [property: JsonPropertyName("received_ts")] long ReceivedTs,
    [property: JsonPropertyName("room_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RoomId,
    [property: JsonPropertyName("event_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EventId,
    [property: JsonPropertyName("user_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UserId,
    [property: JsonPropertyName("reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason,
    [property: JsonPropertyName("score"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Score);

internal sealed record ReportList(
    [property: JsonPropertyName("reports")] ReportEntry[] Reports,
    [property: JsonPropertyName("next_batch"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? NextBatch);

[JsonSerializable(typeof(ReportList))]
internal sealed partial class ReportJsonContext : JsonSerializerContext;
