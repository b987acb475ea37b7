using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>The body of <c>POST /_matrix/federation/v1/get_missing_events</c>, checked by the gateway.</summary>
/// <param name="Limit">At least 1, at most the gateway's cap.</param>
[GenerateSerializer, Alias("hs.MissingEventsQuery")]
public sealed record MissingEventsQuery(IReadOnlyList<string> EarliestEvents, IReadOnlyList<string> LatestEvents, int Limit, long MinDepth);

/// <summary>
/// A room as another server may see it in a space hierarchy. <paramref name="Accessible"/>: the server could peek or
/// join it (a public, knockable or world-readable room, one where it has a joined or invited member, or a restricted one, whose
/// allowed rooms the requesting server judges).
/// </summary>
[GenerateSerializer, Alias("hs.ServerRoomPreview")]
public sealed record ServerRoomPreview(RoomPreview Preview, bool Accessible);
