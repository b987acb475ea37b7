using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]].</summary>
/// <param name="Forward">dir=f (true) or dir=b, the default (false).</param>
/// <param name="Recurse">The recurse parameter, null when the client left it out.</param>
[GenerateSerializer, Alias("hs.RelationsQuery")]
public sealed record RelationsQuery(
    string EventId, string? RelType, string? EventType, string? From, string? To, bool Forward, int Limit, bool? Recurse);

/// <summary>GET /rooms/{roomId}/threads.</summary>
/// <param name="ParticipatedOnly">include=participated (true) or include=all, the default (false).</param>
[GenerateSerializer, Alias("hs.ThreadsQuery")]
public sealed record ThreadsQuery(bool ParticipatedOnly, string? From, int Limit);
