using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>The answer to <c>/make_join</c>: the room's version, and the join template when the requesting server supports it.</summary>
/// <param name="Template">The UTF-8 JSON of the response body (<c>event</c> and <c>room_version</c>); null when the room's
/// version is not among those the requesting server supports (400 <c>M_INCOMPATIBLE_ROOM_VERSION</c>).</param>
[GenerateSerializer, Alias("hs.MakeJoinResult")]
public sealed record MakeJoinResult(string RoomVersion, byte[]? Template);

/// <param name="Origin">The server that sent the request, authenticated by its <c>X-Matrix</c> signature.</param>
/// <param name="EventId">The event id of the request path.</param>
/// <param name="Event">The request body: the join event, signed by the origin.</param>
[GenerateSerializer, Alias("hs.SendJoinRequest")]
public sealed record SendJoinRequest(
    string Origin, string EventId, byte[] Event);

/// <summary>What became of one PDU of a transaction.</summary>
/// <param name="EventId">The event's id in its room version; null when it cannot be told (the PDU is dropped unanswered).</param>
/// <param name="Error">Null when the PDU was accepted (or was already known); otherwise why not.</param>
[GenerateSerializer, Alias("hs.ReceivedPduResult")]
public sealed record ReceivedPduResult(string? EventId, string? Error);

/// <summary>An <c>m.receipt</c> EDU's receipt of one user of the origin: the events read, and its <c>thread_id</c>.</summary>
[GenerateSerializer, Alias("hs.RemoteReceipt")]
public sealed record RemoteReceipt(string UserId, string ReceiptType, IReadOnlyList<string> EventIds, string? ThreadId);
