using System.Text.Json;

namespace HomeServer.Grains.Rooms;

/// <summary>The parsed body of <c>POST /createRoom</c>; the gateway checks shapes, the room grain checks meaning.</summary>
public sealed record CreateRoomRequest(string CreatorUserId)
{
    /// <summary>private_chat, public_chat or trusted_private_chat; null to derive it from <see cref="Publish"/>.</summary>
    public string? Preset { get; init; }

    /// <summary>visibility = public: list the room in the published room directory.</summary>
    public bool Publish { get; init; }

    /// <summary>Null for the server's default.</summary>
    public string? RoomVersion { get; init; }

    public string? Name { get; init; }

    public string? Topic { get; init; }

    /// <summary>room_alias_name: the localpart of an alias on this server.</summary>
    public string? AliasLocalpart { get; init; }

    public IReadOnlyList<string> Invite { get; init; } = [];

    public bool IsDirect { get; init; }

    public IReadOnlyList<InitialStateEvent> InitialState { get; init; } = [];

    /// <summary>A JSON object merged over the default power levels content.</summary>
    public JsonElement? PowerLevelContentOverride { get; init; }

    /// <summary>A JSON object of extra keys for the m.room.create content.</summary>
    public JsonElement? CreationContent { get; init; }
}

/// <param name="Content">A JSON object.</param>
public sealed record InitialStateEvent(string Type, string StateKey, JsonElement Content);
