using System.Buffers;
using System.Text.Json;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync.Json;

/// <summary>Writes a <see cref="SyncResult"/> as the /sync response body, once, as UTF-8 bytes.</summary>
internal static class SyncResponseWriter
{
    /// <param name="nextBatch">The token to answer with; by default the result's own.</param>
    /// <param name="filter">The filter's event_format and event_fields; null for client events with every field.</param>
    public static byte[] Write(SyncResult result, string userId, string deviceId, long nowMs, SyncToken? nextBatch = null, SyncFilter? filter = null)
    {
        var estimated = EstimatedSize(result);
        // Small responses (every long-poll of a fan-out burst) are written into this thread's buffer and copied out at
        // their exact size, instead of allocating a buffer per response.
        var reused = estimated <= MinimumEstimate;
        var buffer = reused ? t_buffer ??= new ArrayBufferWriter<byte>(MinimumEstimate) : new ArrayBufferWriter<byte>(estimated);
        try
        {
            WriteTo(buffer, result, userId, deviceId, nowMs, nextBatch, filter);
            return buffer.WrittenSpan.ToArray();
        }
        finally
        {
            if (reused)
            {
                if (buffer.Capacity > MaxReusedCapacity) t_buffer = null;
                else buffer.ResetWrittenCount();
            }
        }
    }

    private const int MinimumEstimate = 4096;
    private const int MaxReusedCapacity = 256 * 1024;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private static void WriteTo(
        ArrayBufferWriter<byte> buffer, SyncResult result, string userId, string deviceId, long nowMs, SyncToken? nextBatch, SyncFilter? filter)
    {
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("next_batch"u8, (nextBatch ?? result.NextBatch).ToString());
            WriteRooms(writer, result, new Viewer(userId, deviceId, nowMs, filter?.EventFormat ?? EventFormat.Client, filter?.EventFields));
            WriteAccountDataEvents(writer, "account_data"u8, result.AccountData);
            WritePresenceEvents(writer, result.Presence, nowMs);
            WriteToDeviceEvents(writer, result.ToDevice);
            WriteDeviceKeys(writer, result);
            writer.WriteEndObject();
        }
    }

    /// <summary>device_lists, device_one_time_keys_count (signed_curve25519 always listed, as Synapse) and device_unused_fallback_key_types.</summary>
    private static void WriteDeviceKeys(Utf8JsonWriter writer, SyncResult result)
    {
        writer.WritePropertyName("device_lists"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("changed"u8);
        foreach (var userId in result.DeviceListsChanged) writer.WriteStringValue(userId);
        writer.WriteEndArray();
        writer.WriteStartArray("left"u8);
        foreach (var userId in result.DeviceListsLeft) writer.WriteStringValue(userId);
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WritePropertyName("device_one_time_keys_count"u8);
        Keys.KeyResponses.WriteCounts(writer, Keys.KeyResponses.WithSignedCurve25519(result.DeviceKeys?.OneTimeKeyCounts ?? new Dictionary<string, int>()));
        writer.WriteStartArray("device_unused_fallback_key_types"u8);
        foreach (var algorithm in result.DeviceKeys?.UnusedFallbackKeyTypes ?? []) writer.WriteStringValue(algorithm);
        writer.WriteEndArray();
    }

    /// <summary>Room for the pre-serialised state up front, so that a large initial sync grows its buffer rarely.</summary>
    private static int EstimatedSize(SyncResult result)
    {
        long size = MinimumEstimate;
        foreach (var room in result.Joined)
        {
            if (!room.StateIsPreSerialised) continue;
            foreach (var stateEvent in room.State) size += stateEvent.Json.Length + 1;
        }
        foreach (var message in result.ToDevice) size += message.Content.Length + 128;
        return (int)Math.Min(size, Array.MaxLength);
    }

    private static void WriteStrippedRooms(Utf8JsonWriter writer, ReadOnlySpan<byte> section, ReadOnlySpan<byte> stateName, List<StrippedRoomResult> rooms)
    {
        writer.WritePropertyName(section);
        writer.WriteStartObject();
        foreach (var room in rooms)
        {
            writer.WritePropertyName(room.RoomId);
            writer.WriteStartObject();
            writer.WritePropertyName(stateName);
            writer.WriteStartObject();
            writer.WriteStartArray("events"u8);
            foreach (var state in room.StrippedState) SyncEventWriter.WriteStripped(writer, state);
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WriteRooms(Utf8JsonWriter writer, SyncResult result, Viewer viewer)
    {
        writer.WritePropertyName("rooms"u8);
        writer.WriteStartObject();
        writer.WritePropertyName("join"u8);
        writer.WriteStartObject();
        foreach (var room in result.Joined) WriteJoinedRoom(writer, room, viewer);
        writer.WriteEndObject();
        WriteStrippedRooms(writer, "invite"u8, "invite_state"u8, result.Invited);
        WriteStrippedRooms(writer, "knock"u8, "knock_state"u8, result.Knocked);
        writer.WritePropertyName("leave"u8);
        writer.WriteStartObject();
        foreach (var room in result.Left)
        {
            writer.WritePropertyName(room.RoomId);
            writer.WriteStartObject();
            WriteStateEvents(writer, room.State, viewer);
            WriteTimeline(writer, room.Timeline, viewer);
            WriteAccountDataEvents(writer, "account_data"u8, room.AccountData);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteJoinedRoom(Utf8JsonWriter writer, JoinedRoomResult room, Viewer viewer)
    {
        writer.WritePropertyName(room.RoomId);
        writer.WriteStartObject();
        if (room.Summary is { } summary)
        {
            writer.WritePropertyName("summary"u8);
            writer.WriteStartObject();
            if (summary.Heroes is { } heroes)
            {
                writer.WriteStartArray("m.heroes"u8);
                foreach (var hero in heroes) writer.WriteStringValue(hero);
                writer.WriteEndArray();
            }
            writer.WriteNumber("m.joined_member_count"u8, summary.JoinedMemberCount);
            writer.WriteNumber("m.invited_member_count"u8, summary.InvitedMemberCount);
            writer.WriteEndObject();
        }
        if (room.StateIsPreSerialised) WritePreSerialisedStateEvents(writer, room.State, viewer);
        else WriteStateEvents(writer, room.State, viewer);
        if (room.SharedTimeline is { } shared) WriteSharedTimeline(writer, shared, viewer);
        else WriteTimeline(writer, room.Timeline, viewer);
        writer.WritePropertyName("ephemeral"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        if (room.Typing is { } typing) WriteTyping(writer, typing);
        if (room.Receipts.Count > 0) WriteReceipts(writer, room.Receipts);
        writer.WriteEndArray();
        writer.WriteEndObject();
        WriteAccountDataEvents(writer, "account_data"u8, room.AccountData);
        writer.WritePropertyName("unread_notifications"u8);
        writer.WriteStartObject();
        writer.WriteNumber("highlight_count"u8, room.Unread.Highlights);
        writer.WriteNumber("notification_count"u8, room.Unread.Notifications);
        writer.WriteEndObject();
        if (room.ThreadUnread is { } threads)
        {
            writer.WritePropertyName("unread_thread_notifications"u8);
            writer.WriteStartObject();
            foreach (var (threadId, counts) in threads)
            {
                writer.WritePropertyName(threadId);
                writer.WriteStartObject();
                writer.WriteNumber("highlight_count"u8, counts.Highlights);
                writer.WriteNumber("notification_count"u8, counts.Notifications);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    private static void WriteStateEvents(Utf8JsonWriter writer, List<StoredEvent> state, Viewer viewer)
    {
        writer.WritePropertyName("state"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        foreach (var stateEvent in state) WriteEvent(writer, stateEvent, viewer);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WritePreSerialisedStateEvents(Utf8JsonWriter writer, List<StoredEvent> state, Viewer viewer)
    {
        writer.WritePropertyName("state"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        foreach (var stateEvent in state)
        {
            if (viewer.Fields is { } fields) EventFieldsWriter.Write(writer, fields, inner => inner.WriteRawValue(stateEvent.Json, skipInputValidation: true));
            else writer.WriteRawValue(stateEvent.Json, skipInputValidation: true);
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteTimeline(Utf8JsonWriter writer, TimelineResult? timeline, Viewer viewer)
    {
        writer.WritePropertyName("timeline"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        if (timeline is not null)
        {
            foreach (var timelineEvent in timeline.Events) WriteEvent(writer, timelineEvent, viewer);
        }
        writer.WriteEndArray();
        writer.WriteBoolean("limited"u8, timeline?.Limited ?? false);
        if (timeline?.PrevBatch is { } prevBatch) writer.WriteString("prev_batch"u8, prevBatch);
        writer.WriteEndObject();
    }

    private static void WriteSharedTimeline(Utf8JsonWriter writer, SharedTimelineResult timeline, Viewer viewer)
    {
        writer.WritePropertyName("timeline"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        foreach (var timelineEvent in timeline.Events)
        {
            if (viewer.Fields is { } fields)
                EventFieldsWriter.Write(writer, fields, inner => SyncEventWriter.WriteForViewer(inner, timelineEvent, viewer.NowMs, viewer.UserId, viewer.DeviceId));
            else SyncEventWriter.WriteForViewer(writer, timelineEvent, viewer.NowMs, viewer.UserId, viewer.DeviceId);
        }
        writer.WriteEndArray();
        writer.WriteBoolean("limited"u8, false);
        writer.WriteString("prev_batch"u8, timeline.PrevBatch);
        writer.WriteEndObject();
    }

    private static void WriteTyping(Utf8JsonWriter writer, IReadOnlyList<string> userIds)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "m.typing");
        writer.WritePropertyName("content"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("user_ids"u8);
        foreach (var userId in userIds) writer.WriteStringValue(userId);
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>One m.receipt event: event id → receipt type → user id → the receipt's data (ts, thread_id).</summary>
    private static void WriteReceipts(Utf8JsonWriter writer, List<Receipt> receipts)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "m.receipt");
        writer.WritePropertyName("content"u8);
        writer.WriteStartObject();
        foreach (var byEvent in receipts.GroupBy(r => r.EventId, StringComparer.Ordinal))
        {
            writer.WritePropertyName(byEvent.Key);
            writer.WriteStartObject();
            foreach (var byType in byEvent.GroupBy(r => r.ReceiptType, StringComparer.Ordinal))
            {
                writer.WritePropertyName(byType.Key);
                writer.WriteStartObject();
                // A user's threaded receipts may share an event; a JSON object holds one of them, the latest.
                foreach (var receipt in byType.GroupBy(r => r.UserId, StringComparer.Ordinal).Select(g => g.MaxBy(r => r.StreamPosition)!))
                {
                    writer.WritePropertyName(receipt.UserId);
                    writer.WriteRawValue(receipt.Data, skipInputValidation: true);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>
    /// The presence section: one m.presence event per user, <c>last_active_ago</c> computed at writing time, and
    /// <c>currently_active</c> only while online, as Synapse writes them.
    /// </summary>
    private static void WritePresenceEvents(Utf8JsonWriter writer, List<StoredPresence> presences, long nowMs)
    {
        writer.WritePropertyName("presence"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        foreach (var presence in presences)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, SyncPresence.EventType);
            writer.WriteString("sender"u8, presence.UserId);
            writer.WritePropertyName("content"u8);
            writer.WriteStartObject();
            writer.WriteString("presence"u8, presence.Presence);
            if (presence.LastActiveTs > 0) writer.WriteNumber("last_active_ago"u8, Math.Max(0, nowMs - presence.LastActiveTs));
            if (presence.StatusMessage is not null) writer.WriteString("status_msg"u8, presence.StatusMessage);
            if (presence.Presence == Presence.PresenceStates.Online)
                writer.WriteBoolean("currently_active"u8, Presence.PresenceGrain.IsCurrentlyActive(presence.Presence, presence.LastActiveTs, nowMs));
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The to_device section: the spec's ToDevice events, <c>type</c>, <c>sender</c> and <c>content</c>, in stream order.</summary>
    private static void WriteToDeviceEvents(Utf8JsonWriter writer, List<ToDeviceMessage> messages)
    {
        writer.WritePropertyName("to_device"u8);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        foreach (var message in messages)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, message.EventType);
            writer.WriteString("sender"u8, message.Sender);
            writer.WritePropertyName("content"u8);
            writer.WriteRawValue(message.Content, skipInputValidation: true);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteAccountDataEvents(Utf8JsonWriter writer, ReadOnlySpan<byte> section, List<AccountDataEntry> entries)
    {
        writer.WritePropertyName(section);
        writer.WriteStartObject();
        writer.WriteStartArray("events"u8);
        foreach (var entry in entries)
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, entry.DataType);
            writer.WritePropertyName("content"u8);
            writer.WriteRawValue(entry.Content, skipInputValidation: true);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteEvent(Utf8JsonWriter writer, StoredEvent storedEvent, Viewer viewer)
    {
        if (viewer.Fields is { } fields)
            EventFieldsWriter.Write(writer, fields, inner => SyncEventWriter.Write(inner, storedEvent, viewer.NowMs, viewer.UserId, viewer.DeviceId, viewer.Format));
        else SyncEventWriter.Write(writer, storedEvent, viewer.NowMs, viewer.UserId, viewer.DeviceId, viewer.Format);
    }

    /// <summary>Who reads the response, and when (unsigned.age and transaction_id depend on it), and in which format.</summary>
    private sealed record Viewer(string UserId, string DeviceId, long NowMs, EventFormat Format, IReadOnlyList<string>? Fields);
}
