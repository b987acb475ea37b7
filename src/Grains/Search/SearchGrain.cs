using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Storage;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Search;

/// <summary>
/// Runs searches: the store finds matching events in the rooms the user is or was joined to, best first or newest
/// first; each room then keeps only the events the user may see (history visibility, as /messages applies it) and
/// adds their context. A page stops at the limit or after <see cref="MaxCandidates"/> matches looked at, whichever
/// comes first, and next_batch continues after the last match looked at.
/// </summary>
[GrainType("search")]
[StatelessWorker]
public sealed class SearchGrain(IHomeServerStore store) : HomeServerGrain, ISearchGrain
{
    public const int MaxCandidates = 1_000;
    private const int MinBatch = 20;
    private const int MaxBatch = 200;
    private static readonly string[] SearchedMemberships = [Membership.Join, Membership.Leave, Membership.Ban];

    public async Task<byte[]> SearchRoomEventsAsync(Reader reader, RoomEventSearch search)
    {
        var order = search.OrderByRecent ? EventSearchOrder.Recent : EventSearchOrder.Rank;
        SearchBatchToken? token = null;
        if (search.NextBatch is { } nextBatch)
        {
            if (!SearchBatchToken.TryParse(nextBatch, out var parsed)) throw MatrixRequestException.InvalidParam("Unknown next_batch.");
            if (parsed.Order != order) throw MatrixRequestException.InvalidParam("This next_batch belongs to a search in another order.");
            token = parsed;
        }
        var filter = search.Filter;
        if (token is { GroupKey: SearchGroups.Sender, GroupValue: { } sender })
        {
            filter = (filter ?? new RoomEventFilter()) with { Senders = filter?.Senders is null || filter.Senders.Contains(sender) ? [sender] : [] };
        }
        var rooms = await SearchedRoomsAsync(reader.UserId, search, token);
        var query = new EventSearchQuery(search.Term, rooms, search.Keys, order, token?.Cursor, MinBatch);
        // Counting every match costs about as much as ranking them: it runs alongside the page's queries.
        var counting = store.Search.CountAsync(query, CancellationToken.None);

        var taken = new List<EventSearchHit>();
        var cursor = token?.Cursor;
        var exhausted = false;
        var scanned = 0;
        while (taken.Count < search.Limit && scanned < MaxCandidates)
        {
            var batchSize = Math.Clamp(search.Limit - taken.Count, MinBatch, MaxBatch);
            var hits = await store.Search.SearchAsync(query with { After = cursor, Limit = batchSize }, CancellationToken.None);
            var visible = await VisibleAsync(reader, hits, filter);
            var consumed = 0;
            foreach (var hit in hits)
            {
                consumed++;
                scanned++;
                cursor = new EventSearchCursor(hit.Rank, hit.GlobalPosition);
                if (visible.Contains(hit.EventId)) taken.Add(hit);
                if (taken.Count >= search.Limit || scanned >= MaxCandidates) break;
            }
            if (hits.Count < batchSize && consumed == hits.Count)
            {
                exhausted = true;
                break;
            }
        }

        var views = await ViewsAsync(reader, taken, filter, search.Context);
        var results = taken.Where(hit => views.ContainsKey(hit.EventId)).ToList();
        var count = await counting;
        var states = search.IncludeState ? await StatesAsync(reader.UserId, results.Select(r => r.RoomId).Distinct()) : null;
        string? NextBatch(string? groupKey, string? groupValue, EventSearchCursor at) =>
            exhausted ? null : new SearchBatchToken(order, at, groupKey ?? token?.GroupKey, groupValue ?? token?.GroupValue).Format();

        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("search_categories");
            writer.WriteStartObject("room_events");
            writer.WriteNumber("count", count);
            writer.WriteStartArray("highlights");
            foreach (var word in Highlights(search.Term)) writer.WriteStringValue(word);
            writer.WriteEndArray();
            writer.WriteStartArray("results");
            foreach (var hit in results)
            {
                var view = views[hit.EventId];
                writer.WriteStartObject();
                writer.WriteNumber("rank", hit.Rank);
                writer.WritePropertyName("result");
                writer.WriteRawValue(view.Event, skipInputValidation: true);
                if (view.Context is not null)
                {
                    writer.WritePropertyName("context");
                    writer.WriteRawValue(view.Context, skipInputValidation: true);
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            if (states is not null)
            {
                writer.WriteStartObject("state");
                foreach (var (roomId, state) in states)
                {
                    writer.WritePropertyName(roomId);
                    writer.WriteRawValue(state, skipInputValidation: true);
                }
                writer.WriteEndObject();
            }
            if (search.GroupBy.Count > 0)
            {
                writer.WriteStartObject("groups");
                foreach (var groupKey in search.GroupBy.Distinct())
                {
                    writer.WriteStartObject(groupKey);
                    var groups = results.GroupBy(hit => groupKey == SearchGroups.RoomId ? hit.RoomId : views[hit.EventId].Sender);
                    var order = 0;
                    foreach (var group in groups)
                    {
                        writer.WriteStartObject(group.Key);
                        writer.WriteNumber("order", ++order);
                        var last = group.Last();
                        if (NextBatch(groupKey, group.Key, new EventSearchCursor(last.Rank, last.GlobalPosition)) is { } groupNext)
                            writer.WriteString("next_batch", groupNext);
                        writer.WriteStartArray("results");
                        foreach (var hit in group) writer.WriteStringValue(hit.EventId);
                        writer.WriteEndArray();
                        writer.WriteEndObject();
                    }
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            if (cursor is not null && NextBatch(null, null, cursor) is { } next) writer.WriteString("next_batch", next);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
    }

    /// <summary>Rooms the user is joined to, or left or was banned from after being joined (and did not forget).</summary>
    private async Task<IReadOnlyList<string>> SearchedRoomsAsync(string userId, RoomEventSearch search, SearchBatchToken? token)
    {
        var memberships = await store.State.GetRoomsOfUserAsync(userId, SearchedMemberships, CancellationToken.None);
        var candidates = memberships
            .Where(m => search.Rooms is null || search.Rooms.Contains(m.RoomId))
            .Where(m => search.NotRooms is null || !search.NotRooms.Contains(m.RoomId))
            .Where(m => token is not { GroupKey: SearchGroups.RoomId } || m.RoomId == token.GroupValue)
            .ToList();
        var readable = await Task.WhenAll(candidates.Select(async m =>
            m.Membership == Membership.Join || await GrainFactory.GetGrain<IRoomGrain>(m.RoomId).CanReadAsync(userId)));
        return candidates.Where((_, i) => readable[i]).Select(m => m.RoomId).ToList();
    }

    /// <summary>The ids of the hits the user may see and the filter lets through.</summary>
    private async Task<HashSet<string>> VisibleAsync(Reader reader, IReadOnlyList<EventSearchHit> hits, RoomEventFilter? filter)
    {
        var views = await ViewsAsync(reader, hits, filter, context: null);
        return [.. views.Keys];
    }

    private async Task<Dictionary<string, SearchResultView>> ViewsAsync(
        Reader reader, IReadOnlyList<EventSearchHit> hits, RoomEventFilter? filter, SearchContextRequest? context)
    {
        var perRoom = await Task.WhenAll(hits.GroupBy(hit => hit.RoomId).Select(room =>
            GrainFactory.GetGrain<IRoomGrain>(room.Key)
                .GetSearchResultsAsync(reader, new SearchResultsQuery([.. room.Select(hit => hit.EventId)], filter, context))));
        return perRoom.SelectMany(views => views).ToDictionary(view => view.EventId);
    }

    private async Task<List<(string RoomId, byte[] State)>> StatesAsync(string userId, IEnumerable<string> roomIds)
    {
        var states = new List<(string, byte[])>();
        foreach (var roomId in roomIds)
        {
            try
            {
                states.Add((roomId, await GrainFactory.GetGrain<IRoomGrain>(roomId).GetStateAsync(userId)));
            }
            catch (MatrixRequestException)
            {
                // The user's access ended since the results were found; the room's state is theirs no longer.
            }
        }
        return states;
    }

    /// <summary>The words of the search term, lower-cased, for clients to highlight.</summary>
    private static IEnumerable<string> Highlights(string term) =>
        SearchTerms.Words(term).Select(word => word.ToLowerInvariant()).Distinct(StringComparer.Ordinal);

    public async Task<byte[]> SearchUsersAsync(string userId, string term, int limit)
    {
        var users = await store.Search.SearchUsersAsync(userId, term, limit + 1, CancellationToken.None);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("limited", users.Count > limit);
            writer.WriteStartArray("results");
            foreach (var user in users.Take(limit))
            {
                writer.WriteStartObject();
                writer.WriteString("user_id", user.UserId);
                if (user.DisplayName is not null) writer.WriteString("display_name", user.DisplayName);
                if (user.AvatarUrl is not null) writer.WriteString("avatar_url", user.AvatarUrl);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }
}
