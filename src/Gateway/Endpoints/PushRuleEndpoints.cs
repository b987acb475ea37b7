using System.Text.Json.Nodes;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Grains.PushRules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Reading push rules. Users cannot change them yet, so every user has the spec's default rules.</summary>
internal static class PushRuleEndpoints
{
    public static void MapPushRuleEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/pushrules/", (Delegate)GetAllAsync);
        endpoints.MapGet("/_matrix/client/v3/pushrules/global/", (Delegate)GetGlobalAsync);
        endpoints.MapGet("/_matrix/client/v3/pushrules/global/{kind}/{ruleId}", GetRuleAsync);
        endpoints.MapGet("/_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled", GetEnabledAsync);
        endpoints.MapGet("/_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions", GetActionsAsync);
    }

    private static async Task<IResult> GetAllAsync(HttpContext context)
    {
        var rules = await RulesOfCallerAsync(context);
        return Json(new JsonObject { ["global"] = rules });
    }

    private static async Task<IResult> GetGlobalAsync(HttpContext context) => Json(await RulesOfCallerAsync(context));

    private static async Task<IResult> GetRuleAsync(HttpContext context, string kind, string ruleId) =>
        Json(await FindRuleAsync(context, kind, ruleId));

    private static async Task<IResult> GetEnabledAsync(HttpContext context, string kind, string ruleId)
    {
        var rule = await FindRuleAsync(context, kind, ruleId);
        return Json(new JsonObject { ["enabled"] = rule["enabled"]!.DeepClone() });
    }

    private static async Task<IResult> GetActionsAsync(HttpContext context, string kind, string ruleId)
    {
        var rule = await FindRuleAsync(context, kind, ruleId);
        return Json(new JsonObject { ["actions"] = rule["actions"]!.DeepClone() });
    }

    private static async Task<JsonObject> RulesOfCallerAsync(HttpContext context)
    {
        var session = await context.RequireSessionAsync();
        return DefaultPushRules.For(session.UserId);
    }

    private static async Task<JsonObject> FindRuleAsync(HttpContext context, string kind, string ruleId)
    {
        var rules = await RulesOfCallerAsync(context);
        if (!DefaultPushRules.Kinds.Contains(kind)) throw AccountErrors.InvalidParam($"Unknown push rule kind {kind}.");
        return rules[kind]!.AsArray().OfType<JsonObject>().FirstOrDefault(rule => (string?)rule["rule_id"] == ruleId)
            ?? throw AccountErrors.NotFound("The push rule was not found.");
    }

    private static IResult Json(JsonNode node) => AccountsJsonBody.Bytes(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()));
}
