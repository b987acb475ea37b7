using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.PushRules;
using HomeServer.Grains.Pushers;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    private PushRuleCache? _pushRules;

    /// <summary>The notifications of the batch being appended, handed to the push gateway dispatcher once it is committed.</summary>
    private List<PushNotice> _pendingPushes = [];

    /// <summary>Per event of the batch being appended, who is notified of it: shared with the readers once it is committed.</summary>
    private SharedEventNotifications[] _pendingNotifications = [];

    /// <summary>
    /// Evaluates the push rules of the room's local members for each event of the batch, so that the notifications go
    /// into the same transaction as the events: counts are exact whenever the events are durable. The state the rules
    /// see (member count, display names, power levels) is the room's after the batch.
    /// </summary>
    private async Task<EventBatch> AddNotificationsAsync(RoomBatchBuilder builder, EventBatch batch)
    {
        _pendingPushes = [];
        _pendingNotifications = new SharedEventNotifications[batch.Events.Count];
        Array.Fill(_pendingNotifications, SharedEventNotifications.None);
        var view = builder.View;
        var joined = view.JoinedMembers.Where(server.IsLocal).ToList();
        var recipientsByEvent = builder.Events.Select(planned => RecipientsOf(planned, joined)).ToList();
        var everyone = recipientsByEvent.SelectMany(r => r).Distinct(StringComparer.Ordinal).ToList();
        if (everyone.Count == 0) return batch;
        _pushRules ??= new PushRuleCache(store);
        try
        {
            await _pushRules.RefreshAsync(everyone, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The events matter more than their counts: a store that cannot answer this will likely refuse the append too.
            logger.LogWarning(e, "Reading push rules for {RoomId} failed; the batch is stored without notifications", RoomId);
            return batch;
        }
        if (_pushRules.Count > joined.Count + 1000) _pushRules.Retain(joined.Concat(everyone).ToHashSet(StringComparer.Ordinal));

        var powerLevels = view.PowerLevels;
        var memberCount = view.JoinedMembers.Count;
        string? DisplayNameOf(string userId) => view.Get(EventTypes.Member, userId)?.GetContentString("displayname");
        var rows = new List<NewEvent>(batch.Events.Count);
        for (var i = 0; i < batch.Events.Count; i++)
        {
            var planned = builder.Events[i];
            var facts = new PushRoomFacts(recipientsByEvent[i], memberCount, DisplayNameOf,
                powerLevels.UserLevel(planned.Pdu.Sender.Value), powerLevels.NotificationLevel);
            var notifications = facts.Recipients.Count == 0 ? [] : PushEvaluator.Evaluate(planned.Pdu.Json, facts, _pushRules.Of);
            rows.Add(notifications.Count == 0 ? batch.Events[i] : batch.Events[i] with { Notifications = notifications });
            if (notifications.Count == 0) continue;
            _pendingNotifications[i] = SharedNotificationsOf(notifications);
            var senderName = DisplayNameOf(planned.Pdu.Sender.Value);
            var roomName = view.Get("m.room.name")?.GetContentString("name");
            foreach (var notification in notifications)
            {
                _pendingPushes.Add(new PushNotice(notification.UserId, RoomId, batch.Events[i].EventId, batch.Events[i].Json,
                    senderName, roomName, notification.Highlight, notification.Actions));
            }
        }
        return batch with { Events = rows };
    }

    private static SharedEventNotifications SharedNotificationsOf(IReadOnlyList<NewNotification> notifications)
    {
        static string[] Sorted(IEnumerable<NewNotification> of)
        {
            var userIds = of.Select(n => n.UserId).ToArray();
            Array.Sort(userIds, StringComparer.Ordinal);
            return userIds;
        }
        return new SharedEventNotifications(notifications[0].ThreadId, Sorted(notifications), Sorted(notifications.Where(n => n.Highlight)));
    }

    /// <summary>Who was notified of each event of the committed batch (null: not known), taken once for the room feed.</summary>
    private IReadOnlyList<SharedEventNotifications?> TakeCommittedNotifications(int count)
    {
        var notifications = _pendingNotifications.Length == count ? _pendingNotifications : new SharedEventNotifications?[count];
        _pendingNotifications = [];
        return notifications;
    }

    /// <summary>Hands the committed batch's notifications to the dispatcher, which delivers them in the background.</summary>
    private void PushCommittedNotifications()
    {
        if (_pendingPushes.Count == 0) return;
        var pushes = _pendingPushes;
        _pendingPushes = [];
        ServiceProvider.GetService<PushGatewayDispatcher>()?.Enqueue(pushes);
    }

    /// <summary>The local joined members other than the sender, and the invitee of an invite (who is not joined yet).</summary>
    private List<string> RecipientsOf(PlannedEvent planned, List<string> joinedLocal)
    {
        var sender = planned.Row.Sender;
        var recipients = joinedLocal.Where(userId => userId != sender).ToList();
        if (planned.Row.Membership == Membership.Invite && planned.Row.StateKey is { } invitee && invitee != sender
            && server.IsLocal(invitee) && !recipients.Contains(invitee))
            recipients.Add(invitee);
        return recipients;
    }
}
