using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
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
/// Server admins lock and suspend accounts (client-server/admin.yaml, <c>/_matrix/client/v1/admin/lock|suspend/{userId}</c>).
/// Authorisation comes before any look-up, so non-admins learn nothing about which accounts exist; admins cannot be
/// moderated, nor can an admin moderate themself. What moderation does is <see cref="AccountModerationPolicy"/>'s.
/// </summary>
internal static class AccountModerationEndpoints
{
    public static void MapAccountModerationEndpoints(this IEndpointRouteBuilder endpoints)
    {
        foreach (var (action, field) in new[] { ("lock", "locked"), ("suspend", "suspended") })
        {
            var path = $"/_matrix/client/v1/admin/{action}/{{userId}}";
            endpoints.MapGet(path, (HttpContext context, string userId, [FromServices] IGrainFactory grains, [FromServices] LocalServer server) =>
                ModerateAsync(context, userId, field, grains, server, update: false));
            endpoints.MapPut(path, (HttpContext context, string userId, [FromServices] IGrainFactory grains, [FromServices] LocalServer server) =>
                ModerateAsync(context, userId, field, grains, server, update: true)).WithBodySize(BodySize.Small);
        }
    }

    private static async Task<IResult> ModerateAsync(HttpContext context, string userId, string field, IGrainFactory grains, LocalServer server, bool update)
    {
        var admin = await context.RequireAdminSessionAsync();
        bool? value = null;
        if (update)
        {
            var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
            if (!body.TryGetProperty(field, out var given)) throw AccountErrors.MissingParam($"Missing parameter: {field}.");
            value = given.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw MatrixException.BadJson($"{field} must be a boolean."),
            };
        }
        if (!UserId.TryParse(userId, out var parsed) || parsed.Server.Value != server.Name)
            throw AccountErrors.InvalidParam("The user ID does not belong to this server.");
        if (update && userId == admin.UserId) throw AccountErrors.Forbidden("Admins cannot moderate their own account.");

        var user = grains.GetGrain<IUserGrain>(userId);
        var current = await user.GetModerationAsync() ?? throw AccountErrors.NotFound("No such active user.");
        if (current.IsAdmin && userId != admin.UserId) throw AccountErrors.Forbidden("Other server admins cannot be moderated.");
        if (update)
        {
            current = await (field == "locked" ? user.SetModerationAsync(value, null) : user.SetModerationAsync(null, value))
                ?? throw AccountErrors.NotFound("No such active user.");
        }
        var state = field == "locked" ? current.Locked : current.Suspended;
        return JsonWriterResult.Of(writer =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean(field, state);
            writer.WriteEndObject();
        });
    }
}
