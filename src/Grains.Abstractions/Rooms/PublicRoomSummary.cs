using System.Text.Json;
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
    string? RoomType)
{
    /// <summary>The PublishedRoomsChunk fields, into the object the writer is in (the room directory and spaces share them).</summary>
    public void WriteFields(Utf8JsonWriter writer)
    {
        writer.WriteString("room_id", RoomId);
        if (Name is not null) writer.WriteString("name", Name);
        if (Topic is not null) writer.WriteString("topic", Topic);
        if (CanonicalAlias is not null) writer.WriteString("canonical_alias", CanonicalAlias);
        if (AvatarUrl is not null) writer.WriteString("avatar_url", AvatarUrl);
        writer.WriteNumber("num_joined_members", NumJoinedMembers);
        writer.WriteBoolean("world_readable", WorldReadable);
        writer.WriteBoolean("guest_can_join", GuestCanJoin);
        if (JoinRule is not null) writer.WriteString("join_rule", JoinRule);
        if (RoomType is not null) writer.WriteString("room_type", RoomType);
    }
}

/// <param name="Since">A token from an earlier page's next_batch or prev_batch.</param>
/// <param name="SearchTerm">filter.generic_search_term: case-insensitive substring of name, topic or canonical alias.</param>
/// <param name="RoomTypes">filter.room_types: the room types to list, null standing for rooms without a type; null lists all.</param>
[GenerateSerializer, Alias("hs.PublicRoomsQuery")]
public sealed record PublicRoomsQuery(int? Limit, string? Since, string? SearchTerm, IReadOnlyList<string?>? RoomTypes = null);
