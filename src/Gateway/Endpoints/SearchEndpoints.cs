using System.Buffers;
using System.Globalization;
using System.Text.Json.Serialization;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Search;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;
using RoomEventFilter = HomeServer.Grains.Rooms.RoomEventFilter;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Server-side search (client-server/search.yaml), the user directory (users.yaml) and finding an event by time
/// (room_event_by_timestamp.yaml). Bodies are checked here; which events and users a requester may find is the search
/// grain's and the rooms' business.
/// </summary>
internal static class SearchEndpoints
{
    private const int DefaultLimit = 10;
    private const int MaxLimit = 100;
    private const int DefaultContextLimit = 5;
    private const int MaxContextLimit = 100;
    private const int DefaultDirectoryLimit = 10;
    private const int MaxDirectoryLimit = 100;

    public static void MapSearchEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/_matrix/client/v3/search", SearchAsync);
        endpoints.MapPost("/_matrix/client/v3/user_directory/search", SearchUserDirectoryAsync);
        endpoints.MapGet("/_matrix/client/v1/rooms/{roomId}/timestamp_to_event", GetEventByTimestampAsync);
    }

    private static async Task<IResult> SearchAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await ReadBodyAsync(context.Request, SearchJsonContext.Default.SearchBody);
        var categories = body.SearchCategories ?? throw MatrixException.BadJson("search_categories is required.");
        var nextBatch = context.Request.Query["next_batch"].Count > 0 ? context.Request.Query["next_batch"][0] : null;
        if (categories.RoomEvents is not { } criteria)
        {
            // No category that this server searches was asked for.
            return AccountsJsonBody.Bytes("{\"search_categories\":{}}"u8.ToArray());
        }
        var search = ReadRoomEventsCriteria(criteria, nextBatch, context.InputLimits());
        var json = await grains.GetGrain<ISearchGrain>("local").SearchRoomEventsAsync(new Reader(session.UserId, session.DeviceId), search);
        return RoomResults.Json(json);
    }

    private static RoomEventSearch ReadRoomEventsCriteria(RoomEventsCriteriaBody criteria, string? nextBatch, InputLimitsOptions limits)
    {
        var term = criteria.SearchTerm ?? throw MatrixException.BadJson("room_events.search_term is required.");
        var keys = criteria.Keys ?? [.. SearchableKeys.All];
        foreach (var key in keys)
        {
            if (key is null || !SearchableKeys.All.Contains(key))
                throw AccountErrors.InvalidParam("room_events.keys may hold only content.body, content.name and content.topic.");
        }
        var orderByRecent = criteria.OrderBy switch
        {
            null or "rank" => false,
            "recent" => true,
            _ => throw AccountErrors.InvalidParam("room_events.order_by must be 'rank' or 'recent'."),
        };

        RoomEventFilter? filter = null;
        var limit = DefaultLimit;
        if (criteria.Filter is { } filterBody)
        {
            FilterSizeRules.Require(filterBody, limits);
            if (filterBody.Limit is <= 0) throw AccountErrors.InvalidParam("The filter's limit must be greater than 0.");
            limit = Math.Min(filterBody.Limit ?? DefaultLimit, MaxLimit);
            filter = new RoomEventFilter
            {
                Types = filterBody.Types,
                NotTypes = filterBody.NotTypes,
                Senders = filterBody.Senders,
                NotSenders = filterBody.NotSenders,
                ContainsUrl = filterBody.ContainsUrl,
            };
        }

        SearchContextRequest? eventContext = null;
        if (criteria.EventContext is { } contextBody)
        {
            if (contextBody.BeforeLimit is < 0 || contextBody.AfterLimit is < 0)
                throw AccountErrors.InvalidParam("event_context limits must not be negative.");
            eventContext = new SearchContextRequest(
                Math.Min(contextBody.BeforeLimit ?? DefaultContextLimit, MaxContextLimit),
                Math.Min(contextBody.AfterLimit ?? DefaultContextLimit, MaxContextLimit),
                contextBody.IncludeProfile ?? false);
        }

        var groupBy = new List<string>();
        foreach (var group in criteria.Groupings?.GroupBy ?? [])
        {
            if (group?.Key is not (SearchGroups.RoomId or SearchGroups.Sender))
                throw AccountErrors.InvalidParam("groupings.group_by keys must be 'room_id' or 'sender'.");
            groupBy.Add(group.Key);
        }

        return new RoomEventSearch(term, keys.OfType<string>().Distinct().ToList(), filter, criteria.Filter?.Rooms, criteria.Filter?.NotRooms, limit,
            orderByRecent, eventContext, criteria.IncludeState ?? false, groupBy, nextBatch);
    }

    private static async Task<IResult> SearchUserDirectoryAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await ReadBodyAsync(context.Request, SearchJsonContext.Default.UserDirectorySearchBody);
        var term = body.SearchTerm ?? throw MatrixException.BadJson("search_term is required.");
        if (body.Limit is < 0) throw AccountErrors.InvalidParam("limit must not be negative.");
        var limit = Math.Min(body.Limit ?? DefaultDirectoryLimit, MaxDirectoryLimit);
        return RoomResults.Json(await grains.GetGrain<ISearchGrain>("local").SearchUsersAsync(session.UserId, term.Trim(), limit));
    }

    private static async Task<IResult> GetEventByTimestampAsync(HttpContext context, [FromServices] IGrainFactory grains, string roomId)
    {
        var session = await context.RequireSessionAsync();
        roomId = RoomPath.RoomId(roomId);
        var query = context.Request.Query;
        var ts = query["ts"].Count == 0
            ? throw RoomPath.MissingParam("ts is required.")
            : long.TryParse(query["ts"][0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw RoomPath.InvalidParam("ts must be an integer.");
        var forward = query["dir"].Count == 0 ? throw RoomPath.MissingParam("dir is required.") : query["dir"][0] switch
        {
            "f" => true,
            "b" => false,
            _ => throw RoomPath.InvalidParam("dir must be 'f' or 'b'."),
        };
        return RoomResults.Json(await grains.GetGrain<IRoomGrain>(roomId).GetEventByTimestampAsync(session.UserId, ts, forward));
    }

    private static async Task<T> ReadBodyAsync<T>(HttpRequest request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class
    {
        var bytes = await AccountsJsonBody.ReadAllAsync(request);
        return MatrixJsonBody.Deserialize(new ReadOnlySequence<byte>(bytes), typeInfo, request.InputLimits().MaxJsonDepth);
    }
}

internal sealed record SearchBody([property: JsonPropertyName("search_categories")] SearchCategoriesBody? SearchCategories);

internal sealed record SearchCategoriesBody([property: JsonPropertyName("room_events")] RoomEventsCriteriaBody? RoomEvents);

internal sealed record RoomEventsCriteriaBody(
    [property: JsonPropertyName("search_term")] string? SearchTerm,
    [property: JsonPropertyName("keys")] List<string?>? Keys,
    [property: JsonPropertyName("filter")] RoomEventFilterBody? Filter,
    [property: JsonPropertyName("order_by")] string? OrderBy,
    [property: JsonPropertyName("event_context")] SearchEventContextBody? EventContext,
    [property: JsonPropertyName("include_state")] bool? IncludeState,
    [property: JsonPropertyName("groupings")] SearchGroupingsBody? Groupings);

internal sealed record SearchEventContextBody(
    [property: JsonPropertyName("before_limit")] int? BeforeLimit,
    [property: JsonPropertyName("after_limit")] int? AfterLimit,
    [property: JsonPropertyName("include_profile")] bool? IncludeProfile);

internal sealed record SearchGroupingsBody([property: JsonPropertyName("group_by")] List<SearchGroupBody?>? GroupBy);

internal sealed record SearchGroupBody([property: JsonPropertyName("key")] string? Key);

internal sealed record UserDirectorySearchBody(
    [property: JsonPropertyName("search_term")] string? SearchTerm,
    [property: JsonPropertyName("limit")] int? Limit);

[JsonSerializable(typeof(SearchBody))]
[JsonSerializable(typeof(UserDirectorySearchBody))]
internal sealed partial class SearchJsonContext : JsonSerializerContext;
