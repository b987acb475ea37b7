using Orleans;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// What a user may learn of a room without joining it (MSC3266 room summary, a space hierarchy entry): the directory
/// fields plus version, encryption, restricted join allow list, the user's membership and the room's space children.
/// </summary>
/// <param name="Membership">The user's membership, null when they have none (or ask anonymously).</param>
/// <param name="Children">The room's <c>m.space.child</c> events whose <c>via</c> is a non-empty list, by state key.</param>
[GenerateSerializer, Alias("hs.RoomPreview")]
public sealed record RoomPreview(
    PublicRoomSummary Summary,
    string RoomVersion,
    string? Encryption,
    IReadOnlyList<string> AllowedRoomIds,
    string? Membership,
    IReadOnlyList<SpaceChild> Children);

/// <param name="ContentJson">The event's content, a JSON object.</param>
/// <param name="Order">content.order when it is a valid ordering string (printable ASCII, at most 50 characters).</param>
[GenerateSerializer, Alias("hs.SpaceChild")]
public sealed record SpaceChild(string RoomId, string Sender, long OriginServerTs, string ContentJson, bool Suggested, string? Order);
