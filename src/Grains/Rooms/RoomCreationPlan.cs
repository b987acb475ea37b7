using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// The events of POST /createRoom, in the spec's order, and the alias to create with them. Invitees of other servers
/// are not among the events: their server must sign each invite first, so they are invited once the room exists.
/// </summary>
internal sealed record RoomCreationPlan(RoomVersion Version, string? Alias, IReadOnlyList<EventSpec> Events, IReadOnlyList<string> RemoteInvitees)
{
    public const int MaxInvites = 100;
    public const int MaxInitialState = 100;

    public static readonly RoomVersion DefaultVersion = RoomVersion.V10;

    private sealed record Preset(string JoinRule, string HistoryVisibility, string GuestAccess, bool InviteesAreAdmins);

    private static readonly Dictionary<string, Preset> Presets = new()
    {
        ["private_chat"] = new(JoinRules.Invite, HistoryVisibilities.Shared, "can_join", false),
        ["trusted_private_chat"] = new(JoinRules.Invite, HistoryVisibilities.Shared, "can_join", true),
        ["public_chat"] = new(JoinRules.Public, HistoryVisibilities.Shared, "forbidden", false),
    };

    /// <summary>Checks the request and lays out its events; throws <see cref="MatrixRequestException"/> for bad input.</summary>
    /// <param name="creatorJoin">The content of the creator's join (with their profile); a bare join when null.</param>
    public static RoomCreationPlan Create(CreateRoomRequest request, LocalServer server, JsonObject? creatorJoin = null)
    {
        var version = DefaultVersion;
        if (request.RoomVersion is not null && !RoomVersion.TryGet(request.RoomVersion, out version))
            throw new MatrixRequestException("M_UNSUPPORTED_ROOM_VERSION", $"Room version {request.RoomVersion} is not supported.");
        var presetName = request.Preset ?? (request.Publish ? "public_chat" : "private_chat");
        if (!Presets.TryGetValue(presetName, out var preset))
            throw MatrixRequestException.BadJson($"Unknown preset '{presetName}'.");
        var alias = AliasOf(request.AliasLocalpart, server);
        var invitees = Invitees(request);
        var initialState = InitialState(request);
        var creator = request.CreatorUserId;

        var events = new List<EventSpec>
        {
            EventSpec.State(EventTypes.Create, "", creator, CreateContent(request, version)),
            EventSpec.Member(creator, creator, creatorJoin ?? new JsonObject { ["membership"] = Membership.Join }),
            EventSpec.State(EventTypes.PowerLevels, "", creator, PowerLevelsContent(request, initialState, preset, invitees)),
        };
        if (alias is not null)
            events.Add(EventSpec.State("m.room.canonical_alias", "", creator, new JsonObject { ["alias"] = alias }));

        AddUnlessInitial(events, initialState, creator, EventTypes.JoinRules, "join_rule", preset.JoinRule);
        AddUnlessInitial(events, initialState, creator, EventTypes.HistoryVisibility, "history_visibility", preset.HistoryVisibility);
        AddUnlessInitial(events, initialState, creator, "m.room.guest_access", "guest_access", preset.GuestAccess);

        foreach (var state in initialState)
        {
            var overridden = state.StateKey == "" && (state.Type == EventTypes.PowerLevels
                || (state.Type == "m.room.name" && request.Name is not null)
                || (state.Type == "m.room.topic" && request.Topic is not null));
            if (!overridden) events.Add(EventSpec.State(state.Type, state.StateKey, creator, ToObject(state.Content)));
        }
        if (request.Name is not null)
            events.Add(EventSpec.State("m.room.name", "", creator, new JsonObject { ["name"] = request.Name }));
        if (request.Topic is not null)
            events.Add(EventSpec.State("m.room.topic", "", creator, TopicContent(request.Topic)));
        foreach (var invitee in invitees.Where(server.IsLocal))
            events.Add(EventSpec.Member(invitee, creator, InviteContent(request.IsDirect)));
        return new RoomCreationPlan(version, alias, events, invitees.Where(invitee => !server.IsLocal(invitee)).ToList());
    }

    public static JsonObject InviteContent(bool isDirect)
    {
        var content = new JsonObject { ["membership"] = Membership.Invite };
        if (isDirect) content["is_direct"] = true;
        return content;
    }

    public static JsonObject TopicContent(string topic) => new()
    {
        ["topic"] = topic,
        ["m.topic"] = new JsonObject
        {
            ["m.text"] = new JsonArray(new JsonObject { ["body"] = topic, ["mimetype"] = "text/plain" }),
        },
    };

    private static string? AliasOf(string? localpart, LocalServer server)
    {
        if (localpart is null) return null;
        var alias = $"#{localpart}:{server.Name}";
        if (localpart.Length == 0 || localpart.Contains(':') || !Identifiers.RoomAlias.IsValid(alias))
            throw MatrixRequestException.InvalidParam($"'{localpart}' is not a valid alias localpart.");
        return alias;
    }

    private static IReadOnlyList<string> Invitees(CreateRoomRequest request)
    {
        if (request.Invite.Count > MaxInvites)
            throw MatrixRequestException.InvalidParam($"At most {MaxInvites} users can be invited when creating a room.");
        foreach (var invitee in request.Invite)
        {
            if (!UserId.IsValid(invitee))
                throw MatrixRequestException.InvalidParam($"'{invitee}' is not a user ID.");
            if (invitee == request.CreatorUserId)
                throw MatrixRequestException.InvalidParam("The creator cannot invite themselves.");
        }
        return request.Invite.Distinct().ToList();
    }

    private static IReadOnlyList<InitialStateEvent> InitialState(CreateRoomRequest request)
    {
        if (request.InitialState.Count > MaxInitialState)
            throw MatrixRequestException.InvalidParam($"At most {MaxInitialState} initial state events are accepted.");
        foreach (var state in request.InitialState)
        {
            if (state.Content.ValueKind != JsonValueKind.Object)
                throw MatrixRequestException.BadJson("The content of each initial_state event must be an object.");
            if (state.Type is EventTypes.Create or EventTypes.Member)
                throw new MatrixRequestException("M_INVALID_ROOM_STATE", $"initial_state cannot set {state.Type}.");
        }
        return request.InitialState;
    }

    private static JsonObject CreateContent(CreateRoomRequest request, RoomVersion version)
    {
        var content = request.CreationContent is { } extra ? ToObject(extra) : [];
        content.Remove("creator");
        if (!version.CreatorIsSender) content["creator"] = request.CreatorUserId;
        content["room_version"] = version.Id;
        return content;
    }

    private static JsonObject PowerLevelsContent(
        CreateRoomRequest request, IReadOnlyList<InitialStateEvent> initialState, Preset preset, IReadOnlyList<string> invitees)
    {
        var fromInitialState = initialState.LastOrDefault(s => s.Type == EventTypes.PowerLevels && s.StateKey == "");
        var content = fromInitialState is not null ? ToObject(fromInitialState.Content) : PowerLevels.DefaultContent(UserId.Parse(request.CreatorUserId));
        if (preset.InviteesAreAdmins)
        {
            var creatorLevel = content["users"]?[request.CreatorUserId]?.DeepClone() ?? JsonValue.Create(100);
            var users = content["users"] as JsonObject ?? [];
            content["users"] = users;
            foreach (var invitee in invitees) users[invitee] = creatorLevel.DeepClone();
        }
        if (request.PowerLevelContentOverride is { } overrides)
        {
            foreach (var (key, value) in ToObject(overrides)) content[key] = value?.DeepClone();
        }
        return content;
    }

    private static void AddUnlessInitial(
        List<EventSpec> events, IReadOnlyList<InitialStateEvent> initialState, string creator, string type, string key, string value)
    {
        if (!initialState.Any(s => s.Type == type && s.StateKey == ""))
            events.Add(EventSpec.State(type, "", creator, new JsonObject { [key] = value }));
    }

    private static JsonObject ToObject(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
            ? (JsonObject)JsonObject.Create(element)!.DeepClone()
            : throw MatrixRequestException.BadJson("Expected a JSON object.");
}
