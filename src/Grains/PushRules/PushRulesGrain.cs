using System.Globalization;
using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.PushRules;

/// <summary>
/// One user's push rules. Nothing is cached: each call reads the stored ruleset, so a restarted or moved grain
/// answers the same; the grain makes one user's edits run one at a time.
/// </summary>
[GrainType("push-rules")]
public sealed class PushRulesGrain(IHomeServerStore store, ILogger<PushRulesGrain> logger) : HomeServerGrain, IPushRulesGrain
{
    private const string AccountDataType = "m.push_rules";

    public async Task<byte[]> GetRulesAsync() => JsonSerializer.SerializeToUtf8Bytes(await LoadAsync());

    public async Task PutRuleAsync(string kind, string ruleId, byte[] rule, string? before, string? after)
    {
        RequireKind(kind);
        if (ruleId.Length == 0 || PushRuleSets.IsServerRuleId(ruleId) || ruleId.Contains('/') || ruleId.Contains('\\'))
            throw MatrixRequestException.InvalidParam("A rule id must not be empty, start with '.' or contain '/' or '\\'.");
        if (kind == "room" && !RoomId.IsValid(ruleId)) throw MatrixRequestException.InvalidParam("The id of a room rule is the room's ID.");
        if (kind == "sender" && !UserId.IsValid(ruleId)) throw MatrixRequestException.InvalidParam("The id of a sender rule is the sender's user ID.");
        var stored = PushRuleBodies.Rule(kind, ruleId, rule);

        var global = await LoadAsync();
        var rules = global[kind]!.AsArray();
        var existing = IndexOf(rules, ruleId);
        if (existing >= 0)
        {
            // An update keeps the rule's enabled state; only before/after move it.
            stored["enabled"] = rules[existing]!["enabled"]!.DeepClone();
            if (before is null && after is null)
            {
                rules[existing] = stored;
                await SaveAsync(global);
                return;
            }
            rules.RemoveAt(existing);
        }
        rules.Insert(InsertionIndex(rules, kind, before, after), stored);
        await SaveAsync(global);
    }

    public async Task DeleteRuleAsync(string kind, string ruleId)
    {
        RequireKind(kind);
        var global = await LoadAsync();
        var rules = global[kind]!.AsArray();
        var index = IndexOf(rules, ruleId);
        if (index < 0) throw RuleNotFound();
        if (PushRuleSets.IsServerRuleId(ruleId)) throw MatrixRequestException.InvalidParam("Server-default rules cannot be deleted.");
        rules.RemoveAt(index);
        await SaveAsync(global);
    }

    public async Task SetEnabledAsync(string kind, string ruleId, bool enabled)
    {
        RequireKind(kind);
        var global = await LoadAsync();
        var rule = Find(global, kind, ruleId);
        rule["enabled"] = enabled;
        await SaveAsync(global);
    }

    public async Task SetActionsAsync(string kind, string ruleId, byte[] actions)
    {
        RequireKind(kind);
        var parsed = PushRuleBodies.Actions(actions);
        var global = await LoadAsync();
        var rule = Find(global, kind, ruleId);
        rule["actions"] = parsed;
        await SaveAsync(global);
    }

    public async Task<byte[]> GetNotificationsAsync(string? from, int limit, bool onlyHighlight)
    {
        long? before = null;
        if (from is not null)
        {
            if (!long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out var position))
                throw MatrixRequestException.InvalidParam("from is not a token this server gave.");
            before = position;
        }
        var notifications = await store.Push.GetNotificationsAsync(Key, before, limit, onlyHighlight, CancellationToken.None);
        var events = new Dictionary<string, StoredEvent>(StringComparer.Ordinal);
        foreach (var notification in notifications)
        {
            if (await store.Events.GetEventAsync(notification.EventId, CancellationToken.None) is { } stored) events[notification.EventId] = stored;
        }
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            if (notifications.Count == limit)
                writer.WriteString("next_token"u8, notifications[^1].GlobalPosition.ToString(CultureInfo.InvariantCulture));
            writer.WriteStartArray("notifications"u8);
            foreach (var notification in notifications)
            {
                if (!events.TryGetValue(notification.EventId, out var stored)) continue;
                writer.WriteStartObject();
                writer.WritePropertyName("actions"u8);
                writer.WriteRawValue(notification.Actions, skipInputValidation: true);
                writer.WritePropertyName("event"u8);
                ClientEventWriter.Write(writer, Pdu.Parse(Identifiers.EventId.Parse(stored.EventId), stored.Json), ClientEventOptions.Shared with { IncludeRoomId = false });
                writer.WriteBoolean("read"u8, notification.Read);
                writer.WriteString("room_id"u8, notification.RoomId);
                writer.WriteNumber("ts"u8, notification.Ts);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    private async Task<JsonObject> LoadAsync()
    {
        var stored = await store.AccountData.GetAccountDataAsync(Key, null, AccountDataType, CancellationToken.None);
        return PushRuleSets.Merge(Key, stored?.Content);
    }

    private async Task SaveAsync(JsonObject global)
    {
        var content = PushRuleSets.ToAccountData(global);
        if (content.Length > StoreLimits.MaxContentJsonBytes)
            throw new MatrixRequestException("M_TOO_LARGE", "The push rules would be larger than this server keeps.");
        var position = await store.AccountData.SetAccountDataAsync(Key, null, AccountDataType, content, CancellationToken.None);
        try
        {
            await GrainFactory.GetGrain<ISyncGrain>(Key).NotifyAsync(new SyncNotice(SyncNoticeKind.AccountData, null, position));
        }
        catch (Exception e)
        {
            // Saved already: the user's next /sync reads the change from the store.
            logger.LogWarning(e, "Telling {UserId}'s sync grain of new push rules failed", Key);
        }
    }

    /// <summary>Where a new or moved user rule goes: before/after a user rule of the kind, else first of the user's rules.</summary>
    private static int InsertionIndex(JsonArray rules, string kind, string? before, string? after)
    {
        if (before is not null) return RelativeTo(rules, before);
        if (after is not null) return RelativeTo(rules, after) + 1;
        // After the master rule, which stays first of the override rules.
        var index = 0;
        while (index < rules.Count && kind == "override" && (string?)rules[index]!["rule_id"] == ".m.rule.master") index++;
        return index;
    }

    private static int RelativeTo(JsonArray rules, string ruleId)
    {
        if (PushRuleSets.IsServerRuleId(ruleId))
            throw MatrixRequestException.InvalidParam($"A rule cannot be placed relative to the server-default rule {ruleId}.");
        var index = IndexOf(rules, ruleId);
        return index >= 0 ? index : throw MatrixRequestException.InvalidParam($"before/after rule not found: {ruleId}");
    }

    private static JsonObject Find(JsonObject global, string kind, string ruleId)
    {
        var rules = global[kind]!.AsArray();
        var index = IndexOf(rules, ruleId);
        return index >= 0 ? (JsonObject)rules[index]! : throw RuleNotFound();
    }

    private static int IndexOf(JsonArray rules, string ruleId)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            if ((string?)rules[i]!["rule_id"] == ruleId) return i;
        }
        return -1;
    }

    private static void RequireKind(string kind)
    {
        if (!DefaultPushRules.Kinds.Contains(kind)) throw MatrixRequestException.InvalidParam($"Unknown push rule kind {kind}.");
    }

    private static MatrixRequestException RuleNotFound() => MatrixRequestException.NotFound("The push rule was not found.");
}
