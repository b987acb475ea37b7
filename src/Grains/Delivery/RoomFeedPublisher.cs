using HomeServer.Grains.Sync;
using HomeServer.Grains.Sync.Json;
using HomeServer.Runtime;
using HomeServer.Runtime.Membership;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A room's side of the shared fan-out: each committed event is serialised once to its shared client form, and the
/// batch goes in one message to the room feed hub of each silo that hosts the sync grain of a local member. Fire and
/// forget for the room, but the messages to one silo are sent one after the other, so a silo receives the room's
/// batches in order; a failed message is logged (its users catch up from the store).
/// </summary>
internal sealed class RoomFeedPublisher(IGrainFactory grains, IGrainLocator locator, LocalServer server, ILogger logger)
{
    private static readonly KeyValuePair<string, object?> FromRoom = new("source", "room");

    private readonly object _gate = new();
    private readonly Dictionary<SiloAddress, Task> _lastSend = [];

    /// <param name="previousRoomPosition">The room position just before the first event.</param>
    public void Publish(string roomId, long previousRoomPosition, IReadOnlyList<StoredEvent> events, IEnumerable<string> members)
    {
        var bySilo = locator.GroupBySyncSilo(server, members);
        if (bySilo.Count == 0) return;
        var feed = new RoomFeedEvents(roomId, previousRoomPosition, events.Select(SyncEventWriter.Share).ToList());
        SyncMetrics.EventsSerialised.Add(events.Count, FromRoom);
        SyncMetrics.FanOutBatches.Add(1);
        SyncMetrics.FanOutMessages.Add(bySilo.Count);
        lock (_gate)
        {
            foreach (var silo in bySilo)
                _lastSend[silo.Key] = SendAfterAsync(_lastSend.GetValueOrDefault(silo.Key), silo.Key, feed, silo.ToList());
        }
    }

    private async Task SendAfterAsync(Task? previous, SiloAddress silo, RoomFeedEvents feed, IReadOnlyList<string> userIds)
    {
        if (previous is not null) await previous;
        // Off the room's commit path: the hub call may be remote.
        await Task.Yield();
        try
        {
            await grains.GetGrain<IRoomFeedHubGrain>(silo.ToString()).DeliverAsync(feed, userIds);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Sending {Count} events of {RoomId} to the feed hub of {Silo} failed", feed.Events.Count, feed.RoomId, silo);
        }
    }
}
