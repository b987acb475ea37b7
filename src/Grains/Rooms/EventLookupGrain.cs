using HomeServer.Storage;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

[GrainType("event-lookup")]
[StatelessWorker]
public sealed class EventLookupGrain(IHomeServerStore store) : HomeServerGrain, IEventLookupGrain
{
    public async Task<byte[]> GetEventAsync(Reader reader, string eventId)
    {
        // Only a well-formed id can name a stored event; anything else never reaches the store.
        if (!Identifiers.EventId.TryParse(eventId, out _)) throw MatrixRequestException.NotFound("Event not found.");
        var stored = await store.Events.GetEventAsync(eventId, CancellationToken.None)
            ?? throw MatrixRequestException.NotFound("Event not found.");
        // The room applies its membership and history visibility rules to the reader.
        return await GrainFactory.GetGrain<IRoomGrain>(stored.RoomId).GetEventAsync(reader, eventId);
    }

    public async Task<byte[]> GetEventForServerAsync(string origin, string eventId)
    {
        if (!Identifiers.EventId.TryParse(eventId, out _)) throw MatrixRequestException.NotFound("Event not found.");
        var stored = await store.Events.GetEventAsync(eventId, CancellationToken.None)
            ?? throw MatrixRequestException.NotFound("Event not found.");
        return await GrainFactory.GetGrain<IRoomGrain>(stored.RoomId).GetEventForServerAsync(origin, eventId);
    }
}
