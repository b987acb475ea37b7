namespace HomeServer.Storage;

/// <summary>Room records and the public room directory.</summary>
public interface IRoomStore
{
    /// <summary>Creates the room with no events (last position 0); false when the room id is taken.</summary>
    Task<bool> CreateRoomAsync(NewRoom room, CancellationToken cancellationToken);

    Task<Room?> GetRoomAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Publishes the room in, or removes it from, the public directory; false when there is no such room.</summary>
    Task<bool> SetPublishedAsync(string roomId, bool published, CancellationToken cancellationToken);

    /// <summary>Published room ids in ascending order, starting after <paramref name="afterRoomId"/> (null: from the start).</summary>
    Task<IReadOnlyList<string>> GetPublishedRoomsAsync(string? afterRoomId, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// Records that the user forgot the room (a no-op when already forgotten). The mark lasts until the next
    /// m.room.member event of that user in the room is appended. Throws <see cref="EntityNotFoundException"/>
    /// for an unknown room.
    /// </summary>
    Task SetForgottenAsync(string userId, string roomId, CancellationToken cancellationToken);

    Task<bool> IsForgottenAsync(string userId, string roomId, CancellationToken cancellationToken);

    /// <summary>The rooms the user has forgotten, in ascending order.</summary>
    Task<IReadOnlyList<string>> GetForgottenRoomsAsync(string userId, CancellationToken cancellationToken);
}
