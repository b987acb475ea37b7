using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Events;

public static class RoomCreator
{
    /// <summary>
    /// The room creator: <c>content.creator</c> of the create event in v10, its sender in v11
    /// (where <c>creator</c> no longer exists). Null when a v10 create event lacks a string creator.
    /// </summary>
    public static string? Of(RoomVersion version, Pdu createEvent) =>
        version.CreatorIsSender ? createEvent.Sender.Value : createEvent.GetContentString("creator");
}
