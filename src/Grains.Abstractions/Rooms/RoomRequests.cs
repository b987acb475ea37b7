using System.Text.Json;
using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>Who reads: the device matters because a sender's own device sees the transaction id of its events.</summary>
[GenerateSerializer, Alias("hs.Reader")]
public sealed record Reader(string UserId, string DeviceId);

/// <summary>A membership change one user makes for another (invite, kick, ban, unban).</summary>
[GenerateSerializer, Alias("hs.MembershipRequest")]
public sealed record MembershipRequest(string SenderUserId, string TargetUserId, string? Reason);

/// <param name="Content">The member content the client asked for (the join body, a JSON object); membership and profile are added.</param>
[GenerateSerializer, Alias("hs.JoinRequest")]
public sealed record JoinRequest(string UserId, JsonElement Content);

/// <param name="Content">The event content, a JSON object.</param>
/// <param name="TransactionId">Null for the legacy <c>POST /send/{eventType}</c>: each call is a new event.</param>
[GenerateSerializer, Alias("hs.MessageRequest")]
public sealed record MessageRequest(string SenderUserId, string DeviceId, string EventType, JsonElement Content, string? TransactionId);

/// <param name="Content">The event content, a JSON object.</param>
[GenerateSerializer, Alias("hs.StateRequest")]
public sealed record StateRequest(string SenderUserId, string EventType, string StateKey, JsonElement Content);

[GenerateSerializer, Alias("hs.RedactionRequest")]
public sealed record RedactionRequest(string SenderUserId, string DeviceId, string EventId, string? Reason, string TransactionId);

/// <param name="ThreadId">The thread the receipt belongs to (an event id or "main"), or null for an unthreaded receipt.</param>
[GenerateSerializer, Alias("hs.ReceiptRequest")]
public sealed record ReceiptRequest(string UserId, string ReceiptType, string EventId, string? ThreadId);

[GenerateSerializer, Alias("hs.ReadMarkersRequest")]
public sealed record ReadMarkersRequest(string UserId, string? FullyRead, string? Read, string? ReadPrivate);

/// <param name="At">A room stream token; null for the current members.</param>
[GenerateSerializer, Alias("hs.MembersQuery")]
public sealed record MembersQuery(string? At, string? Membership, string? NotMembership);

/// <param name="From">A room stream token; null to start at the newest (backwards) or oldest (forwards) event.</param>
/// <param name="Forward">dir=f (true) or dir=b (false).</param>
[GenerateSerializer, Alias("hs.MessagesQuery")]
public sealed record MessagesQuery(string? From, string? To, bool Forward, int Limit, RoomEventFilter? Filter);

[GenerateSerializer, Alias("hs.ContextQuery")]
public sealed record ContextQuery(string EventId, int Limit, RoomEventFilter? Filter);

/// <summary>Receipt types and the read marker, as named by the API.</summary>
public static class ReceiptTypes
{
    public const string Read = "m.read";
    public const string ReadPrivate = "m.read.private";
    public const string FullyRead = "m.fully_read";
}
