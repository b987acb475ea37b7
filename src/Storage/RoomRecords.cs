namespace HomeServer.Storage;

public sealed record NewRoom(string RoomId, string RoomVersion, string Creator, long CreatedTs, bool Published = false);

/// <param name="LastPosition">Per-room position of the newest event; 0 while the room has none.</param>
public sealed record Room(string RoomId, string RoomVersion, string Creator, long CreatedTs, bool Published, long LastPosition);

public sealed record RoomAlias(string Alias, string RoomId, string Creator);
