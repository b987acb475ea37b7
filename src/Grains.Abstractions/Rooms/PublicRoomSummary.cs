using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>A room's entry in the published room directory (PublishedRoomsChunk).</summary>
[GenerateSerializer, Alias("hs.PublicRoomSummary")]
public sealed record PublicRoomSummary(
    string RoomId,
    string? Name,
    string? Topic,
    string? CanonicalAlias,
    string? AvatarUrl,
    int NumJoinedMembers,
    bool WorldReadable,
    bool GuestCanJoin,
    string? JoinRule,
    string? RoomType);

/// <param name="Since">A token from an earlier page's next_batch or prev_batch.</param>
/// <param name="SearchTerm">filter.generic_search_term: case-insensitive substring of name, topic or canonical alias.</param>
/// <param name="RoomTypes">filter.room_types: the room types to list, null standing for rooms without a type; null lists all.</param>
[GenerateSerializer, Alias("hs.PublicRoomsQuery")]
public sealed record PublicRoomsQuery(int? Limit, string? Since, string? SearchTerm, IReadOnlyList<string?>? RoomTypes = null);
