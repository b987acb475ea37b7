using System.Text.Json;
using HomeServer.Storage;

namespace HomeServer.Grains.PushRules;

/// <summary>What a room knows of itself when one of its events is evaluated for its members.</summary>
/// <param name="Recipients">The users to evaluate for (never the sender).</param>
public sealed record PushRoomFacts(
    IReadOnlyList<string> Recipients, int MemberCount, Func<string, string?> DisplayNameOf, long SenderPowerLevel, Func<string, long> NotificationLevel);

/// <summary>Evaluates one event against the rules of each recipient; the event is flattened once for all of them.</summary>
public static class PushEvaluator
{
    public static List<NewNotification> Evaluate(JsonElement @event, PushRoomFacts room, Func<string, CompiledRuleSet> rulesOf)
    {
        var properties = new EventProperties(@event);
        var threadId = ThreadOf(properties);
        var notifications = new List<NewNotification>();
        foreach (var userId in room.Recipients)
        {
            var context = new PushContext(properties, userId, room.DisplayNameOf(userId), room.MemberCount, room.SenderPowerLevel, room.NotificationLevel);
            if (rulesOf(userId).Evaluate(context) is { Notify: true } actions)
                notifications.Add(new NewNotification(userId, threadId, actions.Highlight, actions.Json));
        }
        return notifications;
    }

    /// <summary>The thread an event belongs to: its thread root for an <c>m.thread</c> relation, else "main".</summary>
    public static string ThreadOf(EventProperties properties) =>
        properties.String("content.m\\.relates_to.rel_type") == "m.thread" && properties.String("content.m\\.relates_to.event_id") is { Length: > 0 } root
            ? root
            : "main";
}
