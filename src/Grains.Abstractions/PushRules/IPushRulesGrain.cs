using Orleans;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// One user's push rules (key: the full user id): reads and the edits of PUT/DELETE /pushrules/global/{kind}/{ruleId}.
/// Edits of one user run one at a time here; each stores the whole ruleset as the account data <c>m.push_rules</c>,
/// which the user's clients receive through /sync and the rooms' push rule evaluation follows.
/// Errors: <see cref="MatrixRequestException"/> M_NOT_FOUND for an unknown rule, M_INVALID_PARAM for a value the
/// spec does not allow (a rule id starting with '.', an unknown action, before/after naming no user rule), M_BAD_JSON
/// for a body of the wrong shape.
/// </summary>
[Alias("push-rules")]
public interface IPushRulesGrain : IGrainWithStringKey
{
    /// <summary>The <c>global</c> ruleset as UTF-8 JSON.</summary>
    Task<byte[]> GetRulesAsync();

    /// <param name="rule">The request body (a JSON object with actions, and conditions or pattern by kind).</param>
    Task PutRuleAsync(string kind, string ruleId, byte[] rule, string? before, string? after);

    Task DeleteRuleAsync(string kind, string ruleId);

    Task SetEnabledAsync(string kind, string ruleId, bool enabled);

    /// <param name="actions">A JSON array of actions.</param>
    Task SetActionsAsync(string kind, string ruleId, byte[] actions);

    /// <summary>GET /notifications: the response body, newest first. M_INVALID_PARAM for a <paramref name="from"/> this server did not give.</summary>
    Task<byte[]> GetNotificationsAsync(string? from, int limit, bool onlyHighlight);
}
