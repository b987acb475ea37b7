using System.Text.Json;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

internal static class RoomCreationEndpoints
{
    public static void MapRoomCreationEndpoints(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost("/_matrix/client/v3/createRoom", CreateRoomAsync);

    private static async Task<IResult> CreateRoomAsync(HttpContext context, IGrainFactory grains, LocalServer server)
    {
        var session = await context.RequireSessionAsync();
        await context.RateLimits().RequireForUserAsync(session, RateLimitBucket.RoomCreation);
        var body = await context.Request.ReadMatrixJsonAsync(RoomsJsonContext.Default.CreateRoomBody);
        RequireWithinLimits(body, context.InputLimits());
        var request = ToRequest(session.UserId, body);
        var thirdPartyInvites = ThirdPartyInvitesOf(session.UserId, body.Invite3Pid);
        var roomId = RoomId.Generate(ServerName.Parse(server.Name)).Value;
        await grains.GetGrain<IRoomGrain>(roomId).CreateAsync(request);
        // As Synapse: after the room exists, each in turn as POST /invite by third-party identifier would do it.
        foreach (var invite in thirdPartyInvites)
            await grains.GetGrain<IRoomThirdPartyInvites>(roomId).InviteByThirdPartyIdAsync(invite);
        return TypedResults.Json(new RoomIdResponse(roomId), RoomsJsonContext.Default.RoomIdResponse);
    }

    private static void RequireWithinLimits(CreateRoomBody body, InputLimitsOptions limits)
    {
        if (body.Invite?.Count + (body.Invite3Pid?.Count ?? 0) > limits.MaxInvitesPerRoomCreation
            || body.Invite3Pid?.Count > limits.MaxInvitesPerRoomCreation)
            throw RoomPath.InvalidParam($"At most {limits.MaxInvitesPerRoomCreation} users may be invited when a room is created.");
        if (body.InitialState?.Count > limits.MaxInitialStateEvents)
            throw RoomPath.InvalidParam($"At most {limits.MaxInitialStateEvents} initial_state events are allowed.");
    }

    private static CreateRoomRequest ToRequest(string creator, CreateRoomBody body)
    {
        var publish = body.Visibility switch
        {
            null or "private" => false,
            "public" => true,
            _ => throw MatrixException.BadJson("visibility must be 'public' or 'private'."),
        };
        if (body.Preset is not (null or "private_chat" or "public_chat" or "trusted_private_chat"))
            throw MatrixException.BadJson("preset must be private_chat, public_chat or trusted_private_chat.");
        return new CreateRoomRequest(creator)
        {
            Preset = body.Preset,
            Publish = publish,
            RoomVersion = body.RoomVersion,
            Name = body.Name,
            Topic = body.Topic,
            AliasLocalpart = body.RoomAliasName,
            Invite = body.Invite ?? [],
            IsDirect = body.IsDirect ?? false,
            InitialState = body.InitialState?.Select(ToInitialState).ToList() ?? [],
            PowerLevelContentOverride = ObjectOrNull(body.PowerLevelContentOverride, "power_level_content_override"),
            CreationContent = ObjectOrNull(body.CreationContent, "creation_content"),
        };
    }

    /// <summary>The <c>invite_3pid</c> entries, each needing <c>id_server</c>, <c>id_access_token</c>, <c>medium</c> and <c>address</c>.</summary>
    private static List<ThirdPartyIdInvite> ThirdPartyInvitesOf(string sender, List<JsonElement>? entries)
    {
        var invites = new List<ThirdPartyIdInvite>();
        foreach (var entry in entries ?? [])
        {
            if (entry.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("Each invite_3pid entry must be an object.");
            string Field(string name) =>
                !entry.TryGetProperty(name, out var value) ? throw RoomPath.MissingParam($"Each invite_3pid entry needs {name}.")
                : value.ValueKind == JsonValueKind.String ? value.GetString()! : throw MatrixException.BadJson($"invite_3pid {name} must be a string.");
            invites.Add(new ThirdPartyIdInvite(sender, Field("id_server"), Field("id_access_token"), Field("medium"), Field("address"), null));
        }
        return invites;
    }

    private static InitialStateEvent ToInitialState(InitialStateBody state)
    {
        if (state.Type is null) throw RoomPath.MissingParam("Each initial_state event needs a type.");
        var content = ObjectOrNull(state.Content, "initial_state content") ?? throw RoomPath.MissingParam("Each initial_state event needs a content.");
        return new InitialStateEvent(state.Type, state.StateKey ?? "", content);
    }

    private static JsonElement? ObjectOrNull(JsonElement? value, string name) => value switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.Object } element => element.Clone(),
        _ => throw MatrixException.BadJson($"{name} must be an object."),
    };
}
