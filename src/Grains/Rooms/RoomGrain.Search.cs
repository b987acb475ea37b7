using System.Collections.Immutable;
using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Search;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    /// <summary>How many events a timestamp look-up examines at most before it answers that there is none.</summary>
    private const int MaxTimestampScan = 2_000;

    private async Task<ReadAccess?> TryReadAccessAsync(string userId)
    {
        if (_writer.Current is not { Exists: true }) return null;
        try
        {
            return await RequireReadAccessAsync(userId);
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_FORBIDDEN")
        {
            return null;
        }
    }

    public async Task<bool> CanReadAsync(string userId) => await TryReadAccessAsync(userId) is not null;

    public async Task<IReadOnlyList<SearchResultView>> GetSearchResultsAsync(Reader reader, SearchResultsQuery query)
    {
        if (await TryReadAccessAsync(reader.UserId) is not { } access) return [];
        var history = await GetHistoryAsync(access.Snapshot);
        var options = ClientEventOptions.For(reader);
        var results = new List<SearchResultView>(query.EventIds.Count);
        foreach (var eventId in query.EventIds)
        {
            var stored = await store.Events.GetEventAsync(eventId, CancellationToken.None);
            if (stored is null || stored.RoomId != RoomId || stored.Redacted || stored.RoomPosition > access.Snapshot.LastPosition) continue;
            if (!history.CanSee(reader.UserId, access.JoinedNow, stored.RoomPosition, stored.Type, stored.StateKey)) continue;
            var pdu = ToPdu(stored);
            if (query.Filter is { } filter && !filter.Matches(stored.Type, stored.Sender, TimelineScan.HasUrl(pdu))) continue;
            // An erased sender's event reaches this reader pruned: its text is not theirs to find.
            var served = await ErasedSenders.ServeAsync(store, access.Snapshot.Version, history, reader.UserId, pdu, stored.RoomPosition);
            if (!ReferenceEquals(served, pdu)) continue;
            var context = query.Context is { } wanted ? await SearchContextAsync(access, history, reader, stored, wanted, options) : null;
            results.Add(new SearchResultView(stored.EventId, stored.Sender, ClientEventWriter.WriteOne(pdu, options), context));
        }
        return results;
    }

    private async Task<byte[]> SearchContextAsync(
        ReadAccess access, RoomHistory history, Reader reader, StoredEvent stored, SearchContextRequest wanted, ClientEventOptions options)
    {
        var scan = new TimelineScan(store, access.Snapshot, history, reader.UserId, access.JoinedNow, filter: null);
        var before = await scan.ReadAsync(stored.RoomPosition - 1, forward: false, to: null, Math.Clamp(wanted.BeforeLimit, 0, MaxPageLimit));
        var after = await scan.ReadAsync(stored.RoomPosition, forward: true, to: null, Math.Clamp(wanted.AfterLimit, 0, MaxPageLimit));
        ImmutableDictionary<StateEventKey, Pdu>? state = null;
        if (wanted.IncludeProfile) state = await StateForAsync(access, stored.RoomPosition);
        return JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("start", RoomStreamToken.Format(before.Position));
            writer.WriteString("end", RoomStreamToken.Format(after.Position));
            WriteEvents(writer, "events_before", before.Events, options);
            WriteEvents(writer, "events_after", after.Events, options);
            if (state is not null)
            {
                // The senders' profiles as their member events stood when the result was sent.
                writer.WriteStartObject("profile_info");
                var senders = before.Events.Concat(after.Events).Select(e => e.Sender.Value).Append(stored.Sender).Distinct().Order(StringComparer.Ordinal);
                foreach (var sender in senders)
                {
                    if (state.GetValueOrDefault(StateEventKey.Member(sender)) is not { } member) continue;
                    writer.WriteStartObject(sender);
                    if (member.GetContentString("displayname") is { } displayName) writer.WriteString("displayname", displayName);
                    if (member.GetContentString("avatar_url") is { } avatarUrl) writer.WriteString("avatar_url", avatarUrl);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        });
    }

    public async Task<byte[]> GetEventByTimestampAsync(string userId, long timestamp, bool forward)
    {
        var access = await RequireReadAccessAsync(userId);
        var history = await GetHistoryAsync(access.Snapshot);
        return await FindEventByTimestampAsync(access.Snapshot, timestamp, forward,
            e => history.CanSee(userId, access.JoinedNow, e.RoomPosition, e.Type, e.StateKey));
    }

    /// <summary>The <c>{event_id, origin_server_ts}</c> answer for the closest event the reader may see, or M_NOT_FOUND.</summary>
    private async Task<byte[]> FindEventByTimestampAsync(RoomSnapshot snapshot, long timestamp, bool forward, Func<StoredEvent, bool> visible)
    {
        var direction = forward ? Direction.Forward : Direction.Backward;
        const int pageSize = 200;
        for (var skip = 0; skip < MaxTimestampScan; skip += pageSize)
        {
            var page = await store.Search.GetEventsByTimestampAsync(RoomId, timestamp, direction, skip, pageSize, CancellationToken.None);
            foreach (var e in page)
            {
                if (e.RoomPosition > snapshot.LastPosition) continue;
                if (!visible(e)) continue;
                return JsonOutput.Write(writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("event_id", e.EventId);
                    writer.WriteNumber("origin_server_ts", e.OriginServerTs);
                    writer.WriteEndObject();
                });
            }
            if (page.Count < pageSize) break;
        }
        throw MatrixRequestException.NotFound($"Unable to find event from {timestamp} in {(forward ? "forward" : "backward")} direction");
    }
}
