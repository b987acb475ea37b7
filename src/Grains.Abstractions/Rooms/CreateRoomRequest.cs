using System.Text.Json;
using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>The parsed body of <c>POST /createRoom</c>; the gateway checks shapes, the room grain checks meaning.</summary>
[GenerateSerializer, Alias("hs.CreateRoomRequest")]
public sealed record CreateRoomRequest(string CreatorUserId)
{
    /// <summary>private_chat, public_chat or trusted_private_chat; null to derive it from <see cref="Publish"/>.</summary>
    [Id(1)]
    public string? Preset { get; init; }

    /// <summary>visibility = public: list the room in the published room directory.</summary>
    [Id(2)]
    public bool Publish { get; init; }

    /// <summary>Null for the server's default.</summary>
    [Id(3)]
    public string? RoomVersion { get; init; }

    [Id(4)]
    public string? Name { get; init; }

    [Id(5)]
    public string? Topic { get; init; }

    /// <summary>room_alias_name: the localpart of an alias on this server.</summary>
    [Id(6)]
    public string? AliasLocalpart { get; init; }

    [Id(7)]
    public IReadOnlyList<string> Invite { get; init; } = [];

    [Id(8)]
    public bool IsDirect { get; init; }

    [Id(9)]
    public IReadOnlyList<InitialStateEvent> InitialState { get; init; } = [];

    /// <summary>A JSON object merged over the default power levels content.</summary>
    [Id(10)]
    public JsonElement? PowerLevelContentOverride { get; init; }

    /// <summary>A JSON object of extra keys for the m.room.create content.</summary>
    [Id(11)]
    public JsonElement? CreationContent { get; init; }
}

/// <param name="Content">A JSON object.</param>
[GenerateSerializer, Alias("hs.InitialStateEvent")]
public sealed record InitialStateEvent(string Type, string StateKey, JsonElement Content);
