using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>An event a request wants in the room, before it is built against the state of the moment.</summary>
internal sealed record EventSpec(string Type, string? StateKey, string Sender, JsonObject Content)
{
    /// <summary>For m.room.redaction: the redacted event as stored (it must be in this room).</summary>
    public Pdu? RedactedOriginal { get; init; }

    public ClientTransactionInfo? Transaction { get; init; }

    public EventId? Redacts => RedactedOriginal?.EventId;

    public static EventSpec State(string type, string stateKey, string sender, JsonObject content) => new(type, stateKey, sender, content);

    public static EventSpec Member(string target, string sender, JsonObject content) => new(EventTypes.Member, target, sender, content);
}
