namespace HomeServer.Storage;

/// <summary>
/// Client transaction ids of sent events (written by <see cref="IRoomEventStore.AppendAsync"/>), so a
/// retried send returns the original event instead of creating a second one; to-device sends keep theirs too
/// (written by <see cref="IToDeviceStore.EnqueueAsync"/>).
/// </summary>
public interface ITransactionIdStore
{
    /// <summary>The event id sent with this transaction id by the user's device in the room, if any.</summary>
    Task<string?> FindEventIdAsync(
        string roomId, string userId, string deviceId, string transactionId, CancellationToken cancellationToken);

    /// <summary>Forgets transaction ids of events and to-device messages sent before <paramref name="olderThanTs"/>; returns how many.</summary>
    Task<int> PruneAsync(long olderThanTs, CancellationToken cancellationToken);
}
