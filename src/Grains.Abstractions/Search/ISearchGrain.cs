using HomeServer.Grains.Rooms;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Search;

/// <summary>
/// Server-side search across rooms and the user directory (key: any string, e.g. "local"; a stateless worker, so every
/// silo answers locally). The rooms apply their own membership and history visibility rules to each result.
/// </summary>
[Alias("search")]
public interface ISearchGrain : IGrainWithStringKey
{
    /// <summary>The JSON body of <c>POST /search</c>; M_INVALID_PARAM for a next_batch this search did not give out.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> SearchRoomEventsAsync(Reader reader, RoomEventSearch search);

    /// <summary>The JSON body of <c>POST /user_directory/search</c>.</summary>
    [Idempotent]
    [AlwaysInterleave]
    [return: Immutable]
    Task<byte[]> SearchUsersAsync(string userId, string term, int limit);
}

/// <summary>The room_events criteria of a search request, checked by the gateway.</summary>
/// <param name="Keys">Which of content.body, content.name, content.topic to search.</param>
/// <param name="Rooms">The filter's rooms (null: all the user's rooms).</param>
/// <param name="Limit">Results per page (the filter's limit, or the default).</param>
/// <param name="GroupBy">room_id and/or sender.</param>
[GenerateSerializer, Alias("hs.RoomEventSearch")]
public sealed record RoomEventSearch(
    string Term,
    IReadOnlyList<string> Keys,
    RoomEventFilter? Filter,
    IReadOnlyList<string>? Rooms,
    IReadOnlyList<string>? NotRooms,
    int Limit,
    bool OrderByRecent,
    SearchContextRequest? Context,
    bool IncludeState,
    IReadOnlyList<string> GroupBy,
    string? NextBatch);

[GenerateSerializer, Alias("hs.SearchContextRequest")]
public sealed record SearchContextRequest(int BeforeLimit, int AfterLimit, bool IncludeProfile);

/// <param name="EventIds">Matching events of the room, in the order of the results.</param>
[GenerateSerializer, Alias("hs.SearchResultsQuery")]
public sealed record SearchResultsQuery(IReadOnlyList<string> EventIds, RoomEventFilter? Filter, SearchContextRequest? Context);

/// <summary>A result the reader may see: the event in client format and, when asked for, its context object.</summary>
[GenerateSerializer, Alias("hs.SearchResultView")]
public sealed record SearchResultView(string EventId, string Sender, byte[] Event, byte[]? Context);

/// <summary>The event content keys a room event search may name (the API's <c>keys</c>).</summary>
public static class SearchableKeys
{
    public static IReadOnlyList<string> All { get; } = ["content.body", "content.name", "content.topic"];
}

/// <summary>The keys results can be grouped by (the API's <c>groupings.group_by</c>).</summary>
public static class SearchGroups
{
    public const string RoomId = "room_id";
    public const string Sender = "sender";
}
