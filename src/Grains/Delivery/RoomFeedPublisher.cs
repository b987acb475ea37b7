using HomeServer.Grains.Cluster;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Sync.Json;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A room's side of the shared fan-out: each committed event is serialised once to its shared client form, and the
/// batch goes in one message, with the room's local members, to the room feed hub of each active silo, which hands it
/// to those members whose sync grain is active there (docs/adr/0011). The room does not wait for it (the batch's
/// writes are answered when it is done, see <see cref="Rooms.RoomWriter"/>), but the messages to one silo are sent one
/// after the other, so a silo receives the room's batches in order; a failed message is logged (its users catch up
/// from the store).
/// </summary>
internal sealed class RoomFeedPublisher(IGrainFactory grains, ActiveSilos silos, LocalServer server, ILogger logger)
{
    private static readonly KeyValuePair<string, object?> FromRoom = new("source", "room");

    private readonly object _gate = new();
    private readonly Dictionary<SiloAddress, Task> _lastSend = [];

    /// <param name="previousRoomPosition">The room position just before the first event.</param>
    /// <param name="notifications">Per event, who was notified of it (stored with it); null when not known.</param>
    /// <returns>Done when every hub was handed the batch (or its call failed, which is logged); it never faults.</returns>
    public Task Publish(
        string roomId, long previousRoomPosition, IReadOnlyList<StoredEvent> events, IEnumerable<string> members,
        IReadOnlyList<SharedEventNotifications?>? notifications = null)
    {
        var localMembers = members.Where(server.IsLocal).ToList();
        if (localMembers.Count == 0) return Task.CompletedTask;
        var targets = silos.Current();
        if (targets.Count == 0) return Task.CompletedTask;
        var feed = new RoomFeedEvents(roomId, previousRoomPosition, events.Select((e, i) => SyncEventWriter.Share(e) with { Notifications = notifications?[i] }).ToList());
        SyncMetrics.EventsSerialised.Add(events.Count, FromRoom);
        SyncMetrics.FanOutBatches.Add(1);
        SyncMetrics.FanOutMessages.Add(targets.Count);
        var sends = new List<Task>(targets.Count);
        lock (_gate)
        {
            foreach (var silo in targets)
                sends.Add(_lastSend[silo] = SendAfterAsync(_lastSend.GetValueOrDefault(silo), silo, feed, localMembers));
            foreach (var gone in _lastSend.Keys.Except(targets).ToList()) _lastSend.Remove(gone);
        }
        return Task.WhenAll(sends);
    }

    private async Task SendAfterAsync(Task? previous, SiloAddress silo, RoomFeedEvents feed, IReadOnlyList<string> userIds)
    {
        if (previous is not null) await previous;
        // Off the room's commit path: the hub call may be remote.
        await Task.Yield();
        try
        {
            await grains.GetGrain<IRoomFeedHubGrain>(SiloKeyedPlacement.KeyOf(silo)).DeliverAsync(feed, userIds);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Sending {Count} events of {RoomId} to the feed hub of {Silo} failed", feed.Events.Count, feed.RoomId, silo);
        }
    }
}
