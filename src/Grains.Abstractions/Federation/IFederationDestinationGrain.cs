using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Federation;

/// <summary>
/// Sends the events of this server's rooms to one other server (key: its server name) in
/// <c>PUT /_matrix/federation/v1/send/{txnId}</c> transactions, one at a time and in order, retrying with back-off
/// while it fails, and catching up from the event log after a restart (docs/adr/0035-outbound-federation-transactions.md).
/// </summary>
[Alias("federation-destination")]
public interface IFederationDestinationGrain : IGrainWithStringKey
{
    /// <summary>A room committed events the server is owed; returns at once, the sending happens after.</summary>
    [OneWay]
    Task HandOverAsync(RoomEventsForServer events);

    /// <summary>
    /// Starts the catch-up of what the server has not acknowledged yet (after a start, or after EDUs were stored in its
    /// outbox); returns at once.
    /// </summary>
    [OneWay]
    Task WakeAsync();

    /// <summary>
    /// An EDU to send soon, with the next transaction (typing, receipts, device list updates). Kept in memory only: lost
    /// if the silo stops before it is sent. Returns at once.
    /// </summary>
    [OneWay]
    Task SendEduAsync(OutboundEdu edu);
}

/// <summary>
/// A room's committed batch as one other server is owed it: its events up to global position
/// <paramref name="LastGlobalPosition"/>. <paramref name="JoinedAt"/>: the server had no member joined before the
/// batch and got one at that position (the events after it are owed). <paramref name="LeftAt"/>: its last member left at
/// that position, the last event owed. <paramref name="FirstGlobalPosition"/>: the batch's first event.
/// </summary>
[GenerateSerializer, Immutable, Alias("hs.RoomEventsForServer")]
public sealed record RoomEventsForServer(string RoomId, long FirstGlobalPosition, long LastGlobalPosition, long? JoinedAt, long? LeftAt);

/// <summary>
/// An EDU for another server: its <c>edu_type</c> and its <c>content</c> (one JSON object). An EDU with a
/// <paramref name="ReplaceKey"/> replaces a queued one of the same key that is not sent yet (a user's presence: only the
/// latest state is worth sending, docs/adr/0045).
/// </summary>
[GenerateSerializer, Immutable, Alias("hs.OutboundEdu")]
public sealed record OutboundEdu(string EduType, byte[] Content, string? ReplaceKey = null);
