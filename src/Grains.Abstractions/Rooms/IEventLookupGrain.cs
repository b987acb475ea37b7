using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Finds an event by its id alone, for the deprecated <c>GET /events/{eventId}</c> (key: any string, e.g. "local";
/// a stateless worker, so every silo answers locally).
/// </summary>
[Alias("event-lookup")]
public interface IEventLookupGrain : IGrainWithStringKey
{
    /// <summary>The event in client format, as its room's <c>GET /rooms/{roomId}/event/{eventId}</c> answers; M_NOT_FOUND when unknown or not visible.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventAsync(Reader reader, string eventId);

    /// <summary><c>GET /_matrix/federation/v1/event/{eventId}</c>: its room's <see cref="IRoomGrain.GetEventForServerAsync"/>.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> GetEventForServerAsync(string origin, string eventId);
}
