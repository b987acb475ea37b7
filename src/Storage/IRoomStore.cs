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
}
