namespace HomeServer.Grains.Pushers;

/// <summary>
/// A notification just committed for a local user, with what the push gateway body needs from the room at that moment.
/// </summary>
/// <param name="EventJson">The event as stored (UTF-8 JSON).</param>
/// <param name="Actions">The matching push rule's actions (UTF-8 JSON array).</param>
public sealed record PushNotice(
    string UserId, string RoomId, string EventId, byte[] EventJson, string? SenderDisplayName, string? RoomName, bool Highlight, byte[] Actions);
