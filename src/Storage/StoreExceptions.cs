namespace HomeServer.Storage;

/// <summary>A write the store refused because of what is already stored; nothing was written.</summary>
public abstract class StoreException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The fence of an append failed: another writer appended to the room since the expected position.</summary>
public sealed class ConcurrencyConflictException(string roomId, long expectedLastPosition, long actualLastPosition)
    : StoreException($"Room {roomId} is at position {actualLastPosition}, not the expected {expectedLastPosition}.")
{
    public string RoomId { get; } = roomId;
    public long ExpectedLastPosition { get; } = expectedLastPosition;
    public long ActualLastPosition { get; } = actualLastPosition;
}

/// <summary>An appended event reused an event id or a client transaction id that is already stored.</summary>
public sealed class DuplicateEventException(string message, Exception? inner = null) : StoreException(message, inner);

/// <summary>A write referred to a user, room or event that does not exist.</summary>
public sealed class EntityNotFoundException(string message, Exception? inner = null) : StoreException(message, inner);
