using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Reads what changed in the store's three streams for one user, each with one query (paged) over all the user's
/// rooms, never one query per room, and never past the positions the response's token will name.
/// </summary>
internal sealed class SyncStreams(IHomeServerStore store, string userId, StreamPositions upper, CancellationToken cancellationToken)
{
    private const int WindowPageSize = 500;

    /// <summary>
    /// The most events one incremental response reads. A client that was away longer gets the gap in several
    /// consecutive responses (each ending at a global position, so nothing is skipped), not one huge one.
    /// </summary>
    private const int WindowBudget = 2_000;

    private const int ReceiptPageSize = 1_000;

    /// <summary>
    /// All events of the rooms after the since token, up to <paramref name="upTo"/> or less when over budget, except those
    /// the token says the client already has (<see cref="SyncToken.Delivered"/>).
    /// </summary>
    public async Task<(Dictionary<string, List<StoredEvent>> Events, long End)> EventsAfterAsync(
        List<string> roomIds, SyncToken since, long upTo)
    {
        var after = since.Events;
        var byRoom = new Dictionary<string, List<StoredEvent>>(StringComparer.Ordinal);
        if (roomIds.Count == 0 || after >= upTo) return (byRoom, Math.Max(after, upTo));
        var position = after;
        var read = 0;
        while (true)
        {
            var page = await store.Events.GetEventsAfterAsync(roomIds, position, WindowPageSize, cancellationToken);
            foreach (var storedEvent in page)
            {
                if (storedEvent.GlobalPosition > upTo) return (byRoom, upTo);
                position = storedEvent.GlobalPosition;
                read++;
                if (since.Delivered.Contains(storedEvent.GlobalPosition)) continue;
                if (!byRoom.TryGetValue(storedEvent.RoomId, out var list)) byRoom[storedEvent.RoomId] = list = [];
                list.Add(storedEvent);
            }
            if (page.Count < WindowPageSize) return (byRoom, upTo);
            if (read >= WindowBudget) return (byRoom, position);
        }
    }

    /// <summary>Receipts of the rooms written after <paramref name="after"/>, by room; others' private read receipts left out.</summary>
    public async Task<Dictionary<string, List<Receipt>>> ReceiptsAsync(List<string> roomIds, long after)
    {
        var byRoom = new Dictionary<string, List<Receipt>>(StringComparer.Ordinal);
        var upTo = upper.Receipts;
        if (roomIds.Count == 0 || after >= upTo) return byRoom;
        var position = after;
        while (true)
        {
            var page = await store.Receipts.GetReceiptChangesAsync(roomIds, position, ReceiptPageSize, cancellationToken);
            foreach (var receipt in page)
            {
                if (receipt.StreamPosition > upTo) return byRoom;
                position = receipt.StreamPosition;
                if (receipt.ReceiptType == "m.read.private" && receipt.UserId != userId) continue;
                if (!byRoom.TryGetValue(receipt.RoomId, out var list)) byRoom[receipt.RoomId] = list = [];
                list.Add(receipt);
            }
            if (page.Count < ReceiptPageSize) return byRoom;
        }
    }

    /// <summary>The user's account data written after <paramref name="after"/>: global and by room.</summary>
    public async Task<(List<AccountDataEntry> Global, Dictionary<string, List<AccountDataEntry>> ByRoom)> AccountDataAsync(long after)
    {
        var global = new List<AccountDataEntry>();
        var byRoom = new Dictionary<string, List<AccountDataEntry>>(StringComparer.Ordinal);
        var upTo = upper.AccountData;
        if (after >= upTo) return (global, byRoom);
        var changes = await store.AccountData.GetAccountDataChangesAsync(userId, after, cancellationToken);
        foreach (var entry in changes.Where(e => e.StreamPosition <= upTo))
        {
            if (entry.RoomId is null)
            {
                global.Add(entry);
                continue;
            }
            if (!byRoom.TryGetValue(entry.RoomId, out var list)) byRoom[entry.RoomId] = list = [];
            list.Add(entry);
        }
        return (global, byRoom);
    }
}
