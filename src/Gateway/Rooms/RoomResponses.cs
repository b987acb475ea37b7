using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Rooms;

internal sealed record RoomIdResponse([property: JsonPropertyName("room_id")] string RoomId);

internal sealed record EventIdResponse([property: JsonPropertyName("event_id")] string EventId);

internal sealed record JoinedRoomsResponse([property: JsonPropertyName("joined_rooms")] IReadOnlyList<string> JoinedRooms);

internal sealed record AliasesResponse([property: JsonPropertyName("aliases")] IReadOnlyList<string> Aliases);

internal sealed record AliasResolution(
    [property: JsonPropertyName("room_id")] string RoomId,
    [property: JsonPropertyName("servers")] IReadOnlyList<string> Servers);

internal sealed record VisibilityResponse([property: JsonPropertyName("visibility")] string Visibility);

internal sealed record EmptyResponse;
