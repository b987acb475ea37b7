using System.Collections.Immutable;
using System.Text.Json;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    public const int MaxPageLimit = 1_000;

    public async Task<byte[]> GetMessagesAsync(Reader reader, MessagesQuery query)
    {
        var access = await RequireReadAccessAsync(reader.UserId);
        var snapshot = access.Snapshot;
        // Without 'from' (spec v1.3), backwards starts at the newest event and forwards at the first.
        var from = query.From is null
            ? (query.Forward ? 0 : snapshot.LastPosition)
            : Math.Min(await PaginationTokens.ResolveAsync(store, RoomId, query.From, "from"), snapshot.LastPosition);
        long? to = query.To is null ? null : await PaginationTokens.ResolveAsync(store, RoomId, query.To, "to");
        var limit = Math.Clamp(query.Limit, 0, MaxPageLimit);

        var backfill = await BackfillStateAsync(snapshot);
        var page = await ReadTimelineAsync(snapshot, backfill, reader.UserId, access.JoinedNow, query.Filter, from, query.Forward, to, limit);
        // Backwards past the start of what this server holds: older history is fetched from a resident server, and the
        // page read again with it. A server that cannot answer leaves the page as the stored history has it.
        var backfillFailed = false;
        for (var round = 0; backfill is not null && page.AtBackfillEdge && page.Events.Count < limit && round < MaxBackfillsPerPage; round++)
        {
            if (await BackfillAsync(snapshot, backfill) == BackfillOutcome.Failed)
            {
                backfillFailed = true;
                break;
            }
            backfill = await BackfillStateAsync(snapshot);
            page = await ReadTimelineAsync(snapshot, backfill, reader.UserId, access.JoinedNow, query.Filter, from, query.Forward, to, limit);
        }
        var members = query.Filter?.LazyLoadMembers == true
            ? MembersOf(await StateForAsync(access), page.Events.Select(e => e.Sender.Value))
            : null;

        var options = await ReadOptionsAsync(reader, page.Events);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("start", query.From ?? PaginationTokens.Format(from));
            // With nothing to show and no server answering, no 'end': the client stops here, and a later request asks again.
            if (!page.Exhausted && !(backfillFailed && page.Events.Count == 0)) writer.WriteString("end", PaginationTokens.Format(page.Position));
            WriteEvents(writer, "chunk", page.Events, options);
            if (members is not null) WriteEvents(writer, "state", members, options);
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetContextAsync(Reader reader, ContextQuery query)
    {
        var access = await RequireReadAccessAsync(reader.UserId);
        var snapshot = access.Snapshot;
        var stored = await RequireEventInRoomAsync(query.EventId);
        var backfill = await BackfillStateAsync(snapshot);
        var history = await GetHistoryAsync(snapshot, backfill);
        if (!history.CanSee(reader.UserId, access.JoinedNow, stored.RoomPosition, stored.Type, stored.StateKey))
            throw MatrixRequestException.NotFound("Event not found.");

        var limit = Math.Clamp(query.Limit, 0, MaxPageLimit);
        var scan = new TimelineScan(store, snapshot, history, reader.UserId, access.JoinedNow, query.Filter, backfill?.Timeline);
        var before = await scan.ReadAsync(stored.RoomPosition - 1, forward: false, to: null, limit / 2);
        var after = await scan.ReadAsync(stored.RoomPosition, forward: true, to: null, limit - limit / 2);

        var state = await StateForAsync(access, after.Position);
        var pdu = await ErasedSenders.ServeAsync(store, snapshot.Version, history, reader.UserId, ToPdu(stored), stored.RoomPosition);
        IEnumerable<Pdu> stateEvents = query.Filter?.LazyLoadMembers == true
            ? MembersOf(state, before.Events.Concat(after.Events).Append(pdu).Select(e => e.Sender.Value))
            : SortedState(state.Values).Where(e => query.Filter is null || query.Filter.Matches(e.Type, e.Sender.Value, TimelineScan.HasUrl(e)));

        var options = await ReadOptionsAsync(reader, before.Events.Concat(after.Events).Append(pdu));
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("start", PaginationTokens.Format(before.Position));
            writer.WriteString("end", PaginationTokens.Format(after.Position));
            WriteEvents(writer, "events_before", before.Events, options);
            writer.WritePropertyName("event");
            ClientEventWriter.Write(writer, pdu, options);
            WriteEvents(writer, "events_after", after.Events, options);
            WriteEvents(writer, "state", stateEvents, options);
            writer.WriteEndObject();
        });
    }

    private async Task<TimelinePage> ReadTimelineAsync(
        RoomSnapshot snapshot, BackfillState? backfill, string userId, bool joinedNow, RoomEventFilter? filter, long from, bool forward, long? to, int limit)
    {
        var history = await GetHistoryAsync(snapshot, backfill);
        return await new TimelineScan(store, snapshot, history, userId, joinedNow, filter, backfill?.Timeline).ReadAsync(from, forward, to, limit);
    }

    /// <summary>The member events of the given users (lazy loading), in user id order.</summary>
    private static IReadOnlyList<Pdu> MembersOf(ImmutableDictionary<StateEventKey, Pdu> state, IEnumerable<string> userIds) =>
        userIds.Distinct().Order(StringComparer.Ordinal)
            .Select(userId => state.GetValueOrDefault(StateEventKey.Member(userId)))
            .OfType<Pdu>()
            .ToList();

    private static void WriteEvents(Utf8JsonWriter writer, string name, IEnumerable<Pdu> events, ClientEventOptions options)
    {
        writer.WriteStartArray(name);
        foreach (var e in events) ClientEventWriter.Write(writer, e, options);
        writer.WriteEndArray();
    }
}
