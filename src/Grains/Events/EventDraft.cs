using System.Text.Json.Nodes;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

/// <summary>Everything needed to build a new event; see <see cref="EventBuilder"/>.</summary>
public sealed record EventDraft
{
    public required RoomVersion RoomVersion { get; init; }

    public required RoomId RoomId { get; init; }

    public required UserId Sender { get; init; }

    public required string Type { get; init; }

    /// <summary>Null for message events; any string, including empty, makes a state event.</summary>
    public string? StateKey { get; init; }

    /// <summary>Copied by the builder; the caller's object is left untouched.</summary>
    public JsonObject Content { get; init; } = [];

    public IReadOnlyList<EventId> PrevEvents { get; init; } = [];

    public IReadOnlyList<EventId> AuthEvents { get; init; } = [];

    /// <summary>
    /// The content hashes (<c>hashes.sha256</c>) of the prev and auth events, which room versions 1 and 2 cite
    /// beside each event ID. Later versions ignore them.
    /// </summary>
    public IReadOnlyDictionary<EventId, string> ReferencedContentHashes { get; init; } = new Dictionary<EventId, string>();

    public required long Depth { get; init; }

    public required long OriginServerTs { get; init; }

    /// <summary>
    /// For <c>m.room.redaction</c> only: the redacted event. Written at top level in v10 and into
    /// <c>content.redacts</c> in v11 (where it may instead already be in <see cref="Content"/>).
    /// </summary>
    public EventId? Redacts { get; init; }
}
