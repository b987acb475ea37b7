using HomeServer.Grains.Events;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    /// <summary>How many relations deep recurse=true follows (the spec asks for at least 3).</summary>
    public const int RelationRecursionDepth = 3;

    public async Task<byte[]> GetRelationsAsync(Reader reader, RelationsQuery query)
    {
        var (access, history, _) = await RequireVisibleEventAsync(reader.UserId, query.EventId);
        var snapshot = access.Snapshot;
        var from = query.From is null
            ? (query.Forward ? 0 : snapshot.LastPosition)
            : await PaginationTokens.ResolveAsync(store, RoomId, query.From, "from");
        long? to = query.To is null ? null : await PaginationTokens.ResolveAsync(store, RoomId, query.To, "to");
        var limit = Math.Clamp(query.Limit, 0, MaxPageLimit);
        var depth = query.Recurse == true ? RelationRecursionDepth : 1;

        // One more than asked tells whether a next page exists.
        var found = limit == 0 ? [] : await store.Relations.GetRelatedEventsAsync(
            new RelationQuery(RoomId, query.EventId, query.RelType, query.EventType, Math.Min(from, snapshot.LastPosition), to,
                query.Forward ? Direction.Forward : Direction.Backward, limit + 1, depth),
            CancellationToken.None);
        var page = found.Take(limit).ToList();
        var visible = await ServedAsync(reader.UserId, snapshot, history,
            page.Where(e => history.CanSee(reader.UserId, access.JoinedNow, e.RoomPosition, e.Type, e.StateKey)).ToList());
        var options = await ReadOptionsAsync(reader, visible);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            WriteEvents(writer, "chunk", visible, options);
            if (found.Count > limit && page.Count > 0)
                writer.WriteString("next_batch", RoomStreamToken.Format(query.Forward ? page[^1].RoomPosition : page[^1].RoomPosition - 1));
            if (query.From is not null) writer.WriteString("prev_batch", query.From);
            if (query.Recurse is not null) writer.WriteNumber("recursion_depth", depth);
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetThreadsAsync(Reader reader, ThreadsQuery query)
    {
        long before = long.MaxValue;
        if (query.From is not null && !RoomStreamToken.TryParse(query.From, out before))
            throw MatrixRequestException.InvalidParam("Unknown pagination token.");
        var access = await RequireReadAccessAsync(reader.UserId);
        var history = await GetHistoryAsync(access.Snapshot);
        var limit = Math.Clamp(query.Limit, 1, MaxPageLimit);

        var found = await store.Relations.GetThreadRootsAsync(
            RoomId, before, query.ParticipatedOnly ? reader.UserId : null, limit + 1, CancellationToken.None);
        var page = found.Take(limit).ToList();
        var visibleRoots = new List<StoredEvent>();
        foreach (var root in page)
        {
            if (await store.Events.GetEventAsync(root.EventId, CancellationToken.None) is not { } stored || stored.RoomId != RoomId) continue;
            if (history.CanSee(reader.UserId, access.JoinedNow, stored.RoomPosition, stored.Type, stored.StateKey)) visibleRoots.Add(stored);
        }
        var roots = await ServedAsync(reader.UserId, access.Snapshot, history, visibleRoots);
        var options = await ReadOptionsAsync(reader, roots);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            WriteEvents(writer, "chunk", roots, options);
            if (found.Count > limit) writer.WriteString("next_batch", RoomStreamToken.Format(page[^1].LatestPosition));
            writer.WriteEndObject();
        });
    }

    /// <summary>The events as the reader is served them: erased senders' events pruned where erasure asks it.</summary>
    private async Task<IReadOnlyList<Pdu>> ServedAsync(string userId, RoomSnapshot snapshot, RoomHistory history, IReadOnlyList<StoredEvent> events)
    {
        var served = await ErasedSenders.PruneAsync(store, events.Select(e => (Event: ToPdu(e), e.RoomPosition)).ToList(),
            e => e.Event.Sender.Value, e => history.WasJoinedWhenSent(userId, e.RoomPosition),
            e => ValueTask.FromResult(e with { Event = ErasedSenders.Pruned(snapshot.Version, e.Event) }), CancellationToken.None);
        return [.. served.Select(e => e.Event)];
    }

    /// <summary>
    /// The event, when the reader may see it; M_NOT_FOUND otherwise, whether it is unknown, in another room, or hidden
    /// by history visibility or the reader's membership (the API does not tell these apart).
    /// </summary>
    private async Task<(ReadAccess Access, RoomHistory History, StoredEvent Event)> RequireVisibleEventAsync(string userId, string eventId)
    {
        if (_writer.Current is not { Exists: true }) throw MatrixRequestException.NotFound("Event not found.");
        var stored = await RequireEventInRoomAsync(eventId);
        ReadAccess access;
        try
        {
            access = await RequireReadAccessAsync(userId);
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_FORBIDDEN")
        {
            throw MatrixRequestException.NotFound("Event not found.");
        }
        var history = await GetHistoryAsync(access.Snapshot);
        if (!history.CanSee(userId, access.JoinedNow, stored.RoomPosition, stored.Type, stored.StateKey))
            throw MatrixRequestException.NotFound("Event not found.");
        return (access, history, stored);
    }

    /// <summary>The reader's options for serving <paramref name="events"/>, with their bundled aggregations.</summary>
    private async Task<ClientEventOptions> ReadOptionsAsync(Reader reader, IEnumerable<Pdu> events) =>
        ClientEventOptions.For(reader) with
        {
            Aggregations = await BundledAggregations.LoadAsync(store, RoomId, reader.UserId, events),
        };
}
