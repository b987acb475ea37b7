namespace HomeServer.Storage;

/// <summary>
/// The to-device inbox of each device. Each send takes one position of the global to-device stream, shared by all its
/// messages; a device reads its own messages by position and deletes those it acknowledged.
/// </summary>
public interface IToDeviceStore
{
    /// <summary>
    /// Stores one send's messages, each in the inbox of every current device it addresses, together with the sender's
    /// transaction id, in one transaction. A second send with the same sender, sender device and transaction id stores
    /// nothing and answers the first one's position with <see cref="ToDeviceEnqueueResult.Duplicate"/>. Messages for
    /// devices (or users) that do not exist are dropped; a device addressed both by id and by "all devices" gets the
    /// message addressed by id.
    /// </summary>
    Task<ToDeviceEnqueueResult> EnqueueAsync(NewToDeviceSend send, CancellationToken cancellationToken);

    /// <summary>
    /// The device's messages after <paramref name="afterPosition"/> and at most at <paramref name="upToPosition"/>,
    /// ascending by position, at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<ToDeviceMessage>> GetMessagesAsync(
        string userId, string deviceId, long afterPosition, long upToPosition, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the device's messages at or below <paramref name="upToPosition"/> (acknowledged); returns how many.</summary>
    Task<int> DeleteMessagesAsync(string userId, string deviceId, long upToPosition, CancellationToken cancellationToken);

    /// <summary>Deletes every message of the device (the device is gone); returns how many.</summary>
    Task<int> DeleteDeviceInboxAsync(string userId, string deviceId, CancellationToken cancellationToken);

    /// <summary>Deletes every message of every device of the user except <paramref name="exceptDeviceId"/>; returns how many.</summary>
    Task<int> DeleteUserInboxesAsync(string userId, string? exceptDeviceId, CancellationToken cancellationToken);

    /// <summary>The highest to-device stream position written so far (0 when none).</summary>
    Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken);
}

/// <summary>One send of PUT /sendToDevice: its sender, transaction id, event type and messages.</summary>
/// <param name="CreatedTs">When it was sent, in ms since the epoch (transaction ids older than that are pruned).</param>
public sealed record NewToDeviceSend(
    string Sender, string SenderDeviceId, string TransactionId, string EventType, IReadOnlyList<ToDeviceRecipient> Messages, long CreatedTs);

/// <param name="DeviceId">The device, or null for every current device of the user.</param>
/// <param name="Content">The message's content, one JSON object.</param>
public sealed record ToDeviceRecipient(string UserId, string? DeviceId, byte[] Content);

/// <param name="Position">The send's stream position (the first send's when <paramref name="Duplicate"/>).</param>
/// <param name="Stored">How many inbox rows this call wrote (0 for a duplicate).</param>
public sealed record ToDeviceEnqueueResult(long Position, bool Duplicate, int Stored);

public sealed record ToDeviceMessage(long StreamPosition, string Sender, string EventType, byte[] Content);
