using System.Text.Json;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Room previews (peeking) and the legacy per-room reads: <c>GET /rooms/{roomId}/initialSync</c> and the room's
/// <c>GET /events?room_id=</c> stream. Members read as members; anyone else only a <c>world_readable</c> room, and
/// only the events whose visibility was <c>world_readable</c> when they were sent (the room history rules).
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>The most events one /events answer carries (as the client's limit asks); the client continues from its end token.</summary>
    public const int MaxPeekEvents = 100;

    // Completed (and replaced) after each committed batch, so /events callers wait for new events without polling.
    private TaskCompletionSource _nextCommit = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SignalCommitWaiters() =>
        Interlocked.Exchange(ref _nextCommit, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    public async Task<byte[]> GetInitialSyncAsync(Reader reader, int limit)
    {
        var access = await RequireReadAccessAsync(reader.UserId);
        var snapshot = access.Snapshot;
        var end = access.LeftAt ?? snapshot.LastPosition;
        var scan = new TimelineScan(store, snapshot, await GetHistoryAsync(snapshot), reader.UserId, access.JoinedNow, filter: null);
        var page = await scan.ReadAsync(end, forward: false, to: null, Math.Clamp(limit, 0, MaxPageLimit));
        var state = await StateForAsync(access);
        var membership = state.GetValueOrDefault(StateEventKey.Member(reader.UserId))?.GetContentString("membership");
        var published = (await store.Rooms.GetRoomAsync(RoomId, CancellationToken.None))?.Published == true;
        var accountData = membership is null
            ? []
            : (await store.AccountData.GetAccountDataChangesAsync(reader.UserId, 0, CancellationToken.None)).Where(e => e.RoomId == RoomId).ToList();

        var options = ClientEventOptions.For(reader);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("room_id", RoomId);
            // As Synapse: a peeker (never a member) gets no membership.
            if (membership is not null) writer.WriteString("membership", membership);
            writer.WriteStartObject("messages");
            if (!page.Exhausted || page.Events.Count > 0) writer.WriteString("start", RoomStreamToken.Format(page.Position));
            writer.WriteString("end", RoomStreamToken.Format(end));
            WriteEvents(writer, "chunk", page.Events.Reverse(), options);
            writer.WriteEndObject();
            WriteEvents(writer, "state", SortedState(state.Values), options);
            writer.WriteString("visibility", published ? "public" : "private");
            writer.WriteStartArray("account_data");
            foreach (var entry in accountData)
            {
                writer.WriteStartObject();
                writer.WriteString("type", entry.DataType);
                writer.WritePropertyName("content");
                writer.WriteRawValue(entry.Content, skipInputValidation: true);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            // Not in the schema, but Synapse answers both and clients of this endpoint read them.
            writer.WriteStartArray("presence");
            writer.WriteEndArray();
            writer.WriteStartArray("receipts");
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetEventsAfterAsync(Reader reader, string? from, int limit, TimeSpan wait)
    {
        var access = await RequireReadAccessAsync(reader.UserId);
        var end = access.LeftAt ?? access.Snapshot.LastPosition;
        var start = from is null ? end : await PaginationTokens.ResolveAsync(store, RoomId, from, "from");
        if (start >= end && access.LeftAt is null && wait > TimeSpan.Zero)
        {
            await WaitForEventsAfterAsync(start, wait);
            access = await RequireReadAccessAsync(reader.UserId);
            end = access.LeftAt ?? access.Snapshot.LastPosition;
        }

        var snapshot = access.Snapshot;
        var scan = new TimelineScan(store, snapshot, await GetHistoryAsync(snapshot), reader.UserId, access.JoinedNow, filter: null);
        var page = await scan.ReadAsync(start, forward: true, to: end, Math.Clamp(limit, 0, MaxPeekEvents));
        var options = ClientEventOptions.For(reader);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("start", RoomStreamToken.Format(start));
            writer.WriteString("end", RoomStreamToken.Format(Math.Max(start, page.Position)));
            WriteEvents(writer, "chunk", page.Events, options);
            writer.WriteEndObject();
        });
    }

    private async Task WaitForEventsAfterAsync(long position, TimeSpan wait)
    {
        var deadline = DateTimeOffset.UtcNow + wait;
        while (true)
        {
            // Taken before looking at the room, so a batch committed in between completes the signal we wait on.
            var signal = Volatile.Read(ref _nextCommit).Task;
            var remaining = deadline - DateTimeOffset.UtcNow;
            if (RequireRoom().LastPosition > position || remaining <= TimeSpan.Zero) return;
            try
            {
                await signal.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                return;
            }
        }
    }
}
