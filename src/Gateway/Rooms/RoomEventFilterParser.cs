using System.Buffers;
using System.Text;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Rooms;

namespace HomeServer.Gateway.Rooms;

/// <summary>The <c>filter</c> query parameter of /messages and /context: a RoomEventFilter as JSON.</summary>
internal static class RoomEventFilterParser
{
    public sealed record Parsed(RoomEventFilter? Filter, int? Limit);

    /// <summary>Null when absent; M_NOT_JSON for bad syntax, M_BAD_JSON for a wrong shape.</summary>
    public static Parsed Parse(string? json, string roomId, InputLimitsOptions limits)
    {
        if (string.IsNullOrEmpty(json)) return new Parsed(null, null);
        var body = MatrixJsonBody.Deserialize(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), RoomsJsonContext.Default.RoomEventFilterBody, limits.MaxJsonDepth);
        FilterSizeRules.Require(body, limits);
        var excludesRoom = (body.Rooms is not null && !body.Rooms.Contains(roomId)) || body.NotRooms?.Contains(roomId) == true;
        var filter = new RoomEventFilter
        {
            // A filter that names other rooms only lets nothing of this one through.
            Types = excludesRoom ? [] : body.Types,
            NotTypes = body.NotTypes,
            Senders = body.Senders,
            NotSenders = body.NotSenders,
            ContainsUrl = body.ContainsUrl,
            LazyLoadMembers = body.LazyLoadMembers ?? false,
            IncludeRedundantMembers = body.IncludeRedundantMembers ?? false,
        };
        if (body.Limit is <= 0) throw RoomPath.InvalidParam("The filter's limit must be greater than 0.");
        return new Parsed(filter, body.Limit);
    }
}
