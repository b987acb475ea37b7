using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    private readonly object _typingTimerGate = new();

    public Task SetTypingAsync(string userId, bool typing, long timeoutMs)
    {
        var snapshot = RequireJoined(userId);
        var changed = _typing.Set(userId, typing, timeoutMs);
        if (changed) NotifyTyping(snapshot);
        // A repeated "typing" keeps the other servers' shorter timeout from running out while the user types.
        if (changed || typing) SendTypingToOtherServers(snapshot, userId, typing);
        ScheduleTypingExpiry();
        return Task.CompletedTask;
    }

    public Task<TypingState> GetTypingAsync() => Task.FromResult(_typing.State);

    public async Task SetReceiptAsync(ReceiptRequest request)
    {
        var snapshot = RequireJoined(request.UserId);
        if (request.ReceiptType == ReceiptTypes.FullyRead)
        {
            if (request.ThreadId is not null)
                throw MatrixRequestException.InvalidParam("thread_id cannot be given for m.fully_read.");
            await SetFullyReadAsync(request.UserId, request.EventId);
            return;
        }
        if (request.ReceiptType is not (ReceiptTypes.Read or ReceiptTypes.ReadPrivate))
            throw MatrixRequestException.InvalidParam($"Unknown receipt type '{request.ReceiptType}'.");
        if (request.ThreadId is not null && request.ThreadId != "main" && !EventId.IsValid(request.ThreadId))
            throw MatrixRequestException.InvalidParam("thread_id must be 'main' or an event ID.");
        await SetReceiptAsync(snapshot, request.UserId, request.ReceiptType, request.EventId, request.ThreadId);
    }

    public async Task SetReadMarkersAsync(ReadMarkersRequest request)
    {
        var snapshot = RequireJoined(request.UserId);
        if (request.FullyRead is not null) await SetFullyReadAsync(request.UserId, request.FullyRead);
        if (request.Read is not null) await SetReceiptAsync(snapshot, request.UserId, ReceiptTypes.Read, request.Read, null);
        if (request.ReadPrivate is not null) await SetReceiptAsync(snapshot, request.UserId, ReceiptTypes.ReadPrivate, request.ReadPrivate, null);
    }

    private async Task SetReceiptAsync(RoomSnapshot snapshot, string userId, string receiptType, string eventId, string? threadId)
    {
        var read = await RequireEventInRoomAsync(eventId);
        // Before the receipt, whose sync notice makes clients read the counts again.
        await store.Push.SetReadMarkAsync(userId, RoomId, threadId ?? "", read.RoomPosition, CancellationToken.None);
        var ts = Clock();
        var data = JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            if (threadId is not null) writer.WriteString("thread_id", threadId);
            writer.WriteNumber("ts", ts);
            writer.WriteEndObject();
        });
        var position = await store.Receipts.SetReceiptAsync(new NewReceipt(RoomId, receiptType, userId, eventId, ts, data, threadId), CancellationToken.None);
        var notice = new SyncNotice(SyncNoticeKind.Receipt, RoomId, position);
        // A private receipt is seen by its owner only.
        if (receiptType == ReceiptTypes.ReadPrivate) _notifier.Notify(userId, notice);
        else
        {
            _notifier.Notify(snapshot.JoinedMembers, notice);
            SendReceiptToOtherServers(snapshot, userId, eventId, ts, threadId);
        }
    }

    /// <summary>The read marker lives in the user's room account data as m.fully_read.</summary>
    private async Task SetFullyReadAsync(string userId, string eventId)
    {
        await RequireEventInRoomAsync(eventId);
        var content = JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("event_id", eventId);
            writer.WriteEndObject();
        });
        var position = await store.AccountData.SetAccountDataAsync(userId, RoomId, ReceiptTypes.FullyRead, content, CancellationToken.None);
        _notifier.Notify(userId, new SyncNotice(SyncNoticeKind.AccountData, RoomId, position));
    }

    /// <summary>Keeps one timer armed for the earliest typing timeout.</summary>
    private void ScheduleTypingExpiry()
    {
        lock (_typingTimerGate)
        {
            _typingTimer?.Dispose();
            _typingTimer = _typing.NextExpiryInMs() is { } dueMs
                ? this.RegisterGrainTimer(ExpireTypingAsync, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(dueMs + 1), Timeout.InfiniteTimeSpan) { Interleave = true })
                : null;
        }
    }

    private Task ExpireTypingAsync(CancellationToken cancellationToken)
    {
        if (_typing.Expire() && _writer.Current is { Exists: true } snapshot) NotifyTyping(snapshot);
        ScheduleTypingExpiry();
        return Task.CompletedTask;
    }
}
