using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Grains.PushRules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Push rules (client-server/pushrules.yaml) and GET /notifications (notifications.yaml). The rules live in the user's
/// push rules grain; bodies are checked there.
/// </summary>
internal static class PushRuleEndpoints
{
    private const string Rule = "/_matrix/client/v3/pushrules/global/{kind}/{ruleId}";
    private const int DefaultNotificationLimit = 20;
    private const int MaxNotificationLimit = 100;

    public static void MapPushRuleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/pushrules/", (Delegate)GetAllAsync);
        endpoints.MapGet("/_matrix/client/v3/pushrules/global/", (Delegate)GetGlobalAsync);
        endpoints.MapGet(Rule, GetRuleAsync);
        endpoints.MapGet(Rule + "/enabled", GetEnabledAsync);
        endpoints.MapGet(Rule + "/actions", GetActionsAsync);
        endpoints.MapPut(Rule, PutRuleAsync);
        endpoints.MapDelete(Rule, DeleteRuleAsync);
        endpoints.MapPut(Rule + "/enabled", PutEnabledAsync);
        endpoints.MapPut(Rule + "/actions", PutActionsAsync);
        endpoints.MapGet("/_matrix/client/v3/notifications", GetNotificationsAsync);
    }

    private static async Task<IResult> GetAllAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var rules = await RulesOfCallerAsync(context, grains);
        return Json(new JsonObject { ["global"] = rules });
    }

    private static async Task<IResult> GetGlobalAsync(HttpContext context, [FromServices] IGrainFactory grains) =>
        Json(await RulesOfCallerAsync(context, grains));

    private static async Task<IResult> GetRuleAsync(HttpContext context, string kind, string ruleId, [FromServices] IGrainFactory grains) =>
        Json(await FindRuleAsync(context, kind, ruleId, grains));

    private static async Task<IResult> GetEnabledAsync(HttpContext context, string kind, string ruleId, [FromServices] IGrainFactory grains)
    {
        var rule = await FindRuleAsync(context, kind, ruleId, grains);
        return Json(new JsonObject { ["enabled"] = rule["enabled"]!.DeepClone() });
    }

    private static async Task<IResult> GetActionsAsync(HttpContext context, string kind, string ruleId, [FromServices] IGrainFactory grains)
    {
        var rule = await FindRuleAsync(context, kind, ruleId, grains);
        return Json(new JsonObject { ["actions"] = rule["actions"]!.DeepClone() });
    }

    private static async Task<IResult> PutRuleAsync(
        HttpContext context, string kind, string ruleId, [FromQuery] string? before, [FromQuery] string? after, [FromServices] IGrainFactory grains)
    {
        var rules = await GrainOfCallerAsync(context, grains);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        await rules.PutRuleAsync(kind, ruleId, AccountsJsonBody.Compact(body), before, after);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> DeleteRuleAsync(HttpContext context, string kind, string ruleId, [FromServices] IGrainFactory grains)
    {
        var rules = await GrainOfCallerAsync(context, grains);
        await rules.DeleteRuleAsync(kind, ruleId);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> PutEnabledAsync(HttpContext context, string kind, string ruleId, [FromServices] IGrainFactory grains)
    {
        var rules = await GrainOfCallerAsync(context, grains);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        if (!body.TryGetProperty("enabled", out var enabled) || enabled.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw new Errors.MatrixException(StatusCodes.Status400BadRequest, "M_BAD_JSON", "enabled must be a boolean.");
        await rules.SetEnabledAsync(kind, ruleId, enabled.GetBoolean());
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> PutActionsAsync(HttpContext context, string kind, string ruleId, [FromServices] IGrainFactory grains)
    {
        var rules = await GrainOfCallerAsync(context, grains);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        await rules.SetActionsAsync(kind, ruleId, AccountsJsonBody.Compact(body));
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> GetNotificationsAsync(
        HttpContext context, [FromQuery] string? from, [FromQuery] string? limit, [FromQuery] string? only, [FromServices] IGrainFactory grains)
    {
        var rules = await GrainOfCallerAsync(context, grains);
        var count = DefaultNotificationLimit;
        if (limit is not null)
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count))
                throw AccountErrors.InvalidParam("limit must be a non-negative integer.");
            count = Math.Clamp(count, 1, MaxNotificationLimit);
        }
        return AccountsJsonBody.Bytes(await rules.GetNotificationsAsync(from, count, only == "highlight"));
    }

    private static async Task<IPushRulesGrain> GrainOfCallerAsync(HttpContext context, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        return grains.GetGrain<IPushRulesGrain>(session.UserId);
    }

    private static async Task<JsonObject> RulesOfCallerAsync(HttpContext context, IGrainFactory grains)
    {
        var rules = await GrainOfCallerAsync(context, grains);
        return JsonNode.Parse(await rules.GetRulesAsync())!.AsObject();
    }

    private static async Task<JsonObject> FindRuleAsync(HttpContext context, string kind, string ruleId, IGrainFactory grains)
    {
        var rules = await RulesOfCallerAsync(context, grains);
        if (!DefaultPushRules.Kinds.Contains(kind)) throw AccountErrors.InvalidParam($"Unknown push rule kind {kind}.");
        return rules[kind]!.AsArray().OfType<JsonObject>().FirstOrDefault(rule => (string?)rule["rule_id"] == ruleId)
            ?? throw AccountErrors.NotFound("The push rule was not found.");
    }

    private static IResult Json(JsonNode node) => AccountsJsonBody.Bytes(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()));
}
