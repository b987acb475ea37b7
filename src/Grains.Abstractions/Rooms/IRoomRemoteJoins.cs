using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The room grain (key: the room id) as the way in for a local user joining a room this server may not be in yet,
/// and as the source of the servers an alias lookup names. See docs/adr/0037-outbound-federated-joins.md.
/// </summary>
[Alias("room-remote-joins")]
public interface IRoomRemoteJoins : IGrainWithStringKey
{
    /// <summary>
    /// Joins the local user. A room this server knows is joined as any local room; otherwise the join goes through
    /// <c>make_join</c>/<c>send_join</c> to <paramref name="servers"/> in turn, and the room is kept here from the
    /// state the answer gives.
    /// </summary>
    [AlwaysInterleave]
    Task JoinThroughServersAsync(JoinRequest request, IReadOnlyList<string> servers);

    /// <summary>The servers with a member joined now, this one first when it has one; empty for an unknown room.</summary>
    [AlwaysInterleave]
    [return: Immutable]
    Task<IReadOnlyList<string>> GetJoinedServersAsync();
}

/// <summary>Where an alias points: the room and the servers to join it through.</summary>
[GenerateSerializer, Immutable, Alias("hs.AliasLookup")]
public sealed record AliasLookup(string RoomId, IReadOnlyList<string> Servers);
