namespace HomeServer.Storage;

/// <summary>
/// Receipts, one per (room, receipt type, user, thread); each write takes the next position of the receipt
/// stream, so sync can ask for what changed since a position.
/// </summary>
public interface IReceiptStore
{
    /// <summary>Stores or replaces the receipt and returns its stream position. Throws <see cref="EntityNotFoundException"/> for an unknown room.</summary>
    Task<long> SetReceiptAsync(NewReceipt receipt, CancellationToken cancellationToken);

    /// <summary>All receipts of the room, ordered by type then user.</summary>
    Task<IReadOnlyList<Receipt>> GetReceiptsAsync(string roomId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> receipts of the given rooms written after <paramref name="sincePosition"/>, ascending by position.</summary>
    Task<IReadOnlyList<Receipt>> GetReceiptChangesAsync(
        IReadOnlyCollection<string> roomIds, long sincePosition, int limit, CancellationToken cancellationToken);

    /// <summary>The highest receipt stream position written so far (0 when none).</summary>
    Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken);
}

/// <param name="Data">The receipt's data object as UTF-8 JSON (e.g. <c>{"ts":...,"thread_id":...}</c>).</param>
/// <param name="ThreadId">The thread of a threaded receipt (<c>main</c> or a thread root), null for an unthreaded one.</param>
public sealed record NewReceipt(string RoomId, string ReceiptType, string UserId, string EventId, long Ts, byte[] Data, string? ThreadId = null);

public sealed record Receipt(
    string RoomId, string ReceiptType, string UserId, string EventId, long Ts, byte[] Data, long StreamPosition);
