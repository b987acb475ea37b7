using HomeServer.Grains.Tests.Federation;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Events.StateResolution;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events.StateResolution;

/// <summary>
/// The event graph of one room, built from real PDUs (<see cref="EventBuilder"/>: IDs from the reference hash or,
/// in v1/v2, chosen and hashed as a server would; auth events chosen by <see cref="AuthEventSelector"/>). Events go
/// into <see cref="Events"/>, the source state resolution reads. Branches of the graph are <see cref="RoomFork"/>s.
/// </summary>
internal sealed class RoomDag
{
    public static readonly UserId Alice = UserId.Parse("@alice:a.example");
    public static readonly UserId Bob = UserId.Parse("@bob:b.example");
    public static readonly UserId Carol = UserId.Parse("@carol:c.example");
    public static readonly UserId Dave = UserId.Parse("@dave:d.example");
    public static readonly UserId Erin = UserId.Parse("@erin:b.example");

    private readonly Dictionary<EventId, string> contentHashes = [];
    private long clock = 10_000;

    public RoomDag(RoomVersion version)
    {
        Version = version;
        RoomId = RoomId.Parse("!room:a.example");
    }

    public RoomVersion Version { get; }

    public RoomId RoomId { get; }

    public InMemoryEventSource Events { get; } = new();

    public static RoomVersion VersionOf(string id) =>
        RoomVersion.TryGet(id, out var version) ? version : throw new ArgumentException(id);

    /// <summary>
    /// A room Alice creates; the given users join it (public join rule), and the power levels give each their level
    /// (Alice 100 unless said otherwise). Every event is checked by the authorization rules.
    /// </summary>
    public static (RoomDag Dag, RoomFork Root) CreateRoom(string versionId, params (UserId User, int Level)[] members)
    {
        var dag = new RoomDag(VersionOf(versionId));
        var root = new RoomFork(dag);
        var createContent = dag.Version.CreatorIsSender
            ? $$"""{ "room_version": "{{dag.Version.Id}}" }"""
            : $$"""{ "room_version": "{{dag.Version.Id}}", "creator": "{{Alice}}" }""";
        root.Send(Alice, EventTypes.Create, "", createContent);
        root.Send(Alice, EventTypes.Member, Alice.Value, """{ "membership": "join" }""");
        var levels = new Dictionary<UserId, int> { [Alice] = 100 };
        foreach (var (user, level) in members)
            levels[user] = level;
        root.Send(Alice, EventTypes.PowerLevels, "", PowerLevelsContent(levels));
        root.Send(Alice, EventTypes.JoinRules, "", """{ "join_rule": "public" }""");
        foreach (var (user, _) in members)
        {
            if (user != Alice)
                root.Send(user, EventTypes.Member, user.Value, """{ "membership": "join" }""");
        }
        return (dag, root);
    }

    public static string PowerLevelsContent(IReadOnlyDictionary<UserId, int> users)
    {
        var usersObject = new JsonObject();
        foreach (var (user, level) in users.OrderBy(entry => entry.Key.Value, StringComparer.Ordinal))
            usersObject[user.Value] = level;
        return new JsonObject
        {
            ["ban"] = 50, ["kick"] = 50, ["redact"] = 50, ["invite"] = 0,
            ["events_default"] = 0, ["state_default"] = 50, ["users_default"] = 0,
            ["events"] = new JsonObject { ["m.room.power_levels"] = 100, ["m.room.topic"] = 50, ["m.room.name"] = 50 },
            ["users"] = usersObject,
        }.ToJsonString();
    }

    /// <summary>A timestamp later than every earlier default one.</summary>
    public long NextTimestamp() => clock += 10;

    public Pdu Build(UserId sender, string type, string? stateKey, string content, IReadOnlyDictionary<StateEventKey, Pdu> state,
        IReadOnlyList<EventId> prevEvents, long depth, long originServerTs)
    {
        var contentObject = JsonNode.Parse(content)!.AsObject();
        var pdu = TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = Version,
            RoomId = RoomId,
            Sender = sender,
            Type = type,
            StateKey = stateKey,
            Content = contentObject,
            PrevEvents = prevEvents,
            AuthEvents = AuthEventSelector.Select(type, stateKey, sender, contentObject, state),
            Depth = depth,
            OriginServerTs = originServerTs,
            ReferencedContentHashes = contentHashes,
        }).Pdu;
        contentHashes[pdu.EventId] = pdu.ContentHash!;
        return pdu;
    }
}

/// <summary>One branch of a room's graph: its latest event and the state after it, as the server on it sees it.</summary>
internal sealed class RoomFork
{
    private readonly RoomDag dag;
    private readonly Dictionary<StateEventKey, Pdu> state;
    private List<EventId> latest;
    private long depth;

    public RoomFork(RoomDag dag) : this(dag, [], [], 0)
    {
    }

    private RoomFork(RoomDag dag, Dictionary<StateEventKey, Pdu> state, List<EventId> latest, long depth)
    {
        this.dag = dag;
        this.state = state;
        this.latest = latest;
        this.depth = depth;
    }

    public IReadOnlyDictionary<StateEventKey, Pdu> State => state;

    /// <summary>The state as state resolution takes it: slot → event ID.</summary>
    public IReadOnlyDictionary<StateEventKey, EventId> StateIds => state.ToDictionary(entry => entry.Key, entry => entry.Value.EventId);

    public RoomFork Branch() => new(dag, new Dictionary<StateEventKey, Pdu>(state), [.. latest], depth);

    /// <summary>
    /// Builds an event on this branch, asserts the rules allow it against the branch's state, records it in the
    /// room's event source and applies it. Without <paramref name="originServerTs"/> the room's clock moves on.
    /// </summary>
    public Pdu Send(UserId sender, string type, string? stateKey, string content = "{}", long? originServerTs = null,
        bool addToSource = true) =>
        Append(sender, type, stateKey, content, originServerTs, addToSource, mustBeAllowed: true);

    /// <summary>
    /// Like <see cref="Send"/> but without the rules: what a malicious or broken server could put in its branch.
    /// </summary>
    public Pdu Forge(UserId sender, string type, string? stateKey, string content, long? originServerTs = null) =>
        Append(sender, type, stateKey, content, originServerTs, addToSource: true, mustBeAllowed: false);

    private Pdu Append(UserId sender, string type, string? stateKey, string content, long? originServerTs, bool addToSource,
        bool mustBeAllowed)
    {
        var pdu = dag.Build(sender, type, stateKey, content, state, latest, depth + 1, originServerTs ?? dag.NextTimestamp());
        var result = EventAuthorizer.Authorize(dag.Version, pdu, state);
        if (mustBeAllowed)
            Assert.True(result.IsAllowed, $"{type} by {sender}: {result.Reason}");
        if (addToSource)
            dag.Events.Add(pdu);
        if (pdu.StateKey is not null)
            state[new StateEventKey(pdu.Type, pdu.StateKey)] = pdu;
        latest = [pdu.EventId];
        depth++;
        return pdu;
    }

    public Pdu SetPowerLevels(UserId sender, params (UserId User, int Level)[] users) =>
        Send(sender, EventTypes.PowerLevels, "", RoomDag.PowerLevelsContent(users.ToDictionary(entry => entry.User, entry => entry.Level)));

    public Pdu Topic(UserId sender, string topic, long? originServerTs = null) =>
        Send(sender, "m.room.topic", "", $$"""{ "topic": "{{topic}}" }""", originServerTs);

    public Pdu Membership(UserId sender, UserId target, string membership) =>
        Send(sender, EventTypes.Member, target.Value, $$"""{ "membership": "{{membership}}" }""");
}
