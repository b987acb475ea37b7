using System.Collections.Immutable;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Identifiers;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>Hands the room's committed events to the senders of the other servers in it (docs/adr/0035-outbound-federation-transactions.md).</summary>
public sealed partial class RoomGrain
{
    private static readonly ImmutableHashSet<string> NoServers = ImmutableHashSet<string>.Empty.WithComparer(StringComparer.Ordinal);

    // Taken at activation: the commit path runs outside the activation, where the grain's own factory may not be used.
    private Orleans.IGrainFactory _grainsForHandOver = null!;
    private ImmutableDictionary<StateEventKey, Pdu>? _serversComputedFor;
    private ImmutableHashSet<string> _serversOfState = NoServers;

    /// <summary>
    /// Each server other than this one with a member joined before or after the batch gets it (a server whose last
    /// member left still gets that leave). Returns at once: the senders read the events from the log themselves.
    /// </summary>
    private void HandOverToOtherServers(CommittedBatch batch)
    {
        var before = OtherServersJoined(batch.Before);
        var after = OtherServersJoined(batch.After);
        if (before.Count == 0 && after.Count == 0) return;

        var first = batch.Events[0].Appended.GlobalPosition;
        var last = batch.Events[^1].Appended.GlobalPosition;
        foreach (var destination in before.Union(after))
        {
            // A batch that starts the room with another server's members is a copy of that server's room (a local
            // user's join through send_join): the server has every event of it, the owed ones come after.
            long? joinedAt = before.Contains(destination) ? null
                : batch.Before.LastEventId is null ? last
                : MembershipChangeOf(batch, destination, firstJoin: true) ?? first - 1;
            long? leftAt = after.Contains(destination) ? null : MembershipChangeOf(batch, destination, firstJoin: false) ?? last;
            try
            {
                _ = _grainsForHandOver.GetGrain<IFederationDestinationGrain>(destination)
                    .HandOverAsync(new RoomEventsForServer(RoomId, first, last, joinedAt, leftAt));
            }
            catch (Exception e)
            {
                // The events stay in the log: the destination gets them with the room's next batch or the next start.
                logger.LogWarning(e, "Handing {RoomId} over to the sender of {Destination} failed", RoomId, destination);
            }
        }
    }

    /// <summary>The first join (or the last membership change) in the batch of a member of <paramref name="serverName"/>.</summary>
    private static long? MembershipChangeOf(CommittedBatch batch, string serverName, bool firstJoin)
    {
        var changes = batch.Events.Where(e => e.Event.Row.Membership is { } membership
                                              && (!firstJoin || membership == Membership.Join)
                                              && ServerOf(e.Event.Row.StateKey!) == serverName)
            .Select(e => (long?)e.Appended.GlobalPosition);
        return firstJoin ? changes.FirstOrDefault() : changes.LastOrDefault();
    }

    /// <summary>
    /// Servers other than this one with a member joined in the snapshot's state. A batch without state events keeps the
    /// state of the one before, so for most batches this is a reference comparison.
    /// </summary>
    private ImmutableHashSet<string> OtherServersJoined(RoomSnapshot snapshot)
    {
        if (ReferenceEquals(snapshot.State, _serversComputedFor)) return _serversOfState;
        var servers = snapshot.JoinedMembers.Where(member => !server.IsLocal(member)).Select(ServerOf).OfType<string>().ToImmutableHashSet(StringComparer.Ordinal);
        _serversComputedFor = snapshot.State;
        _serversOfState = servers.IsEmpty ? NoServers : servers;
        return _serversOfState;
    }

    private static string? ServerOf(string userId) => UserId.TryParse(userId, out var parsed) ? parsed.Server.ToString() : null;
}
