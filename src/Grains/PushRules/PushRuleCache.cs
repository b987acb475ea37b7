using HomeServer.Storage;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// The compiled push rules of a room's members, kept by the room's writer. Before each batch it reads the push rule
/// edits of all users since the last read (one indexed query, usually empty) and, in one more query, the rules of
/// members it has not seen yet; no query per member. Used by one writer at a time.
/// </summary>
public sealed class PushRuleCache(IHomeServerStore store)
{
    private readonly Dictionary<string, CompiledRuleSet> _rules = new(StringComparer.Ordinal);
    private long _seenPosition = -1;

    public async Task RefreshAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        if (_seenPosition < 0)
        {
            // Read before any rules: an edit committed after this position is picked up by the next change query.
            _seenPosition = await store.AccountData.GetMaxStreamPositionAsync(cancellationToken);
        }
        else
        {
            foreach (var change in await store.Push.GetPushRuleChangesAsync(_seenPosition, cancellationToken))
            {
                if (_rules.ContainsKey(change.UserId)) _rules[change.UserId] = Compile(change.UserId, change.Content);
                _seenPosition = Math.Max(_seenPosition, change.StreamPosition);
            }
        }
        var missing = userIds.Where(userId => !_rules.ContainsKey(userId)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0) return;
        var stored = (await store.Push.GetPushRulesAsync(missing, cancellationToken)).ToDictionary(r => r.UserId, r => r.Content, StringComparer.Ordinal);
        foreach (var userId in missing) _rules[userId] = Compile(userId, stored.GetValueOrDefault(userId));
    }

    /// <summary>The user's rules; the defaults when they were not refreshed (never expected).</summary>
    public CompiledRuleSet Of(string userId)
    {
        if (!_rules.TryGetValue(userId, out var rules)) _rules[userId] = rules = Compile(userId, null);
        return rules;
    }

    public int Count => _rules.Count;

    /// <summary>Forgets users no longer in the room.</summary>
    public void Retain(IReadOnlySet<string> userIds)
    {
        foreach (var userId in _rules.Keys.Where(u => !userIds.Contains(u)).ToList()) _rules.Remove(userId);
    }

    private static CompiledRuleSet Compile(string userId, byte[]? stored) => CompiledRuleSet.Compile(PushRuleSets.Merge(userId, stored));
}
