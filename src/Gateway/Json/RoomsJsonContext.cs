using System.Text.Json.Serialization;
using HomeServer.Gateway.Rooms;

namespace HomeServer.Gateway.Json;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateRoomBody))]
[JsonSerializable(typeof(JoinBody))]
[JsonSerializable(typeof(ReasonBody))]
[JsonSerializable(typeof(TargetUserBody))]
[JsonSerializable(typeof(InviteBody))]
[JsonSerializable(typeof(TypingBody))]
[JsonSerializable(typeof(ReceiptBody))]
[JsonSerializable(typeof(ReadMarkersBody))]
[JsonSerializable(typeof(AliasBody))]
[JsonSerializable(typeof(VisibilityBody))]
[JsonSerializable(typeof(PublicRoomsBody))]
[JsonSerializable(typeof(RoomEventFilterBody))]
[JsonSerializable(typeof(RoomIdResponse))]
[JsonSerializable(typeof(EventIdResponse))]
[JsonSerializable(typeof(JoinedRoomsResponse))]
[JsonSerializable(typeof(AliasesResponse))]
[JsonSerializable(typeof(AliasResolution))]
[JsonSerializable(typeof(VisibilityResponse))]
[JsonSerializable(typeof(EmptyResponse))]
internal sealed partial class RoomsJsonContext : JsonSerializerContext;
