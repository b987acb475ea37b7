using System.Text.Json;
using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Rooms;

// Request bodies of the rooms API. Properties are nullable so a missing field can be told apart and answered with
// M_MISSING_PARAM; a field of the wrong JSON type fails deserialisation and is answered with M_BAD_JSON.

internal sealed record CreateRoomBody(
    [property: JsonPropertyName("visibility")] string? Visibility,
    [property: JsonPropertyName("room_alias_name")] string? RoomAliasName,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("topic")] string? Topic,
    [property: JsonPropertyName("invite")] List<string>? Invite,
    [property: JsonPropertyName("invite_3pid")] List<JsonElement>? Invite3Pid,
    [property: JsonPropertyName("room_version")] string? RoomVersion,
    [property: JsonPropertyName("creation_content")] JsonElement? CreationContent,
    [property: JsonPropertyName("initial_state")] List<InitialStateBody>? InitialState,
    [property: JsonPropertyName("preset")] string? Preset,
    [property: JsonPropertyName("is_direct")] bool? IsDirect,
    [property: JsonPropertyName("power_level_content_override")] JsonElement? PowerLevelContentOverride);

internal sealed record InitialStateBody(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("state_key")] string? StateKey,
    [property: JsonPropertyName("content")] JsonElement? Content);

internal sealed record JoinBody(
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("third_party_signed")] JsonElement? ThirdPartySigned);

internal sealed record ReasonBody([property: JsonPropertyName("reason")] string? Reason);

internal sealed record TargetUserBody(
    [property: JsonPropertyName("user_id")] string? UserId,
    [property: JsonPropertyName("reason")] string? Reason);

/// <summary>POST /invite: by user id, or by third-party identifier (id_server, id_access_token, medium, address).</summary>
internal sealed record InviteBody(
    [property: JsonPropertyName("user_id")] string? UserId,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("id_server")] string? IdServer,
    [property: JsonPropertyName("id_access_token")] string? IdAccessToken,
    [property: JsonPropertyName("medium")] string? Medium,
    [property: JsonPropertyName("address")] string? Address)
{
    public bool IsThirdParty => UserId is null && (IdServer ?? IdAccessToken ?? Medium ?? Address) is not null;
}

internal sealed record TypingBody(
    [property: JsonPropertyName("typing")] bool? Typing,
    [property: JsonPropertyName("timeout")] long? Timeout);

internal sealed record ReceiptBody([property: JsonPropertyName("thread_id")] JsonElement? ThreadId);

internal sealed record ReadMarkersBody(
    [property: JsonPropertyName("m.fully_read")] string? FullyRead,
    [property: JsonPropertyName("m.read")] string? Read,
    [property: JsonPropertyName("m.read.private")] string? ReadPrivate);

internal sealed record AliasBody([property: JsonPropertyName("room_id")] string? RoomId);

internal sealed record VisibilityBody([property: JsonPropertyName("visibility")] string? Visibility);

internal sealed record PublicRoomsBody(
    [property: JsonPropertyName("limit")] int? Limit,
    [property: JsonPropertyName("since")] string? Since,
    [property: JsonPropertyName("filter")] PublicRoomsFilterBody? Filter,
    [property: JsonPropertyName("include_all_networks")] bool? IncludeAllNetworks,
    [property: JsonPropertyName("third_party_instance_id")] string? ThirdPartyInstanceId);

internal sealed record PublicRoomsFilterBody(
    [property: JsonPropertyName("generic_search_term")] string? GenericSearchTerm,
    [property: JsonPropertyName("room_types")] List<string?>? RoomTypes);

/// <summary>The RoomEventFilter of the <c>filter</c> query parameter of /messages and /context.</summary>
internal sealed record RoomEventFilterBody(
    [property: JsonPropertyName("limit")] int? Limit,
    [property: JsonPropertyName("types")] List<string>? Types,
    [property: JsonPropertyName("not_types")] List<string>? NotTypes,
    [property: JsonPropertyName("senders")] List<string>? Senders,
    [property: JsonPropertyName("not_senders")] List<string>? NotSenders,
    [property: JsonPropertyName("rooms")] List<string>? Rooms,
    [property: JsonPropertyName("not_rooms")] List<string>? NotRooms,
    [property: JsonPropertyName("contains_url")] bool? ContainsUrl,
    [property: JsonPropertyName("lazy_load_members")] bool? LazyLoadMembers,
    [property: JsonPropertyName("include_redundant_members")] bool? IncludeRedundantMembers);
