using System.Text.Json.Nodes;
using HomeServer.Grains.Tests.Federation;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events.Auth;

/// <summary>
/// A room built from real events (<see cref="EventBuilder"/>, <see cref="AuthEventSelector"/>) whose
/// state map feeds <see cref="EventAuthorizer"/>. Alice creates it; Bob is a moderator (50).
/// </summary>
internal sealed class TestRoom
{
    public static readonly UserId Alice = UserId.Parse("@alice:example.org");
    public static readonly UserId Bob = UserId.Parse("@bob:example.org");
    public static readonly UserId Carol = UserId.Parse("@carol:example.org");
    public static readonly UserId Dave = UserId.Parse("@dave:example.org");
    public static readonly UserId Eve = UserId.Parse("@eve:elsewhere.org");

    public const string StandardPowerLevels = """
        {
            "ban": 50, "kick": 50, "redact": 50, "invite": 0,
            "events_default": 0, "state_default": 50, "users_default": 0,
            "events": { "m.room.power_levels": 100, "m.room.name": 50 },
            "notifications": { "room": 50 },
            "users": { "@alice:example.org": 100, "@bob:example.org": 50 }
        }
        """;

    private readonly Dictionary<StateEventKey, Pdu> state = [];
    private readonly Dictionary<EventId, string> contentHashes = [];
    private List<EventId> latest = [];
    private long depth;

    public TestRoom(RoomVersion version, RoomId? roomId = null)
    {
        Version = version;
        RoomId = roomId ?? RoomId.Parse("!room:example.org");
    }

    public RoomVersion Version { get; }

    public RoomId RoomId { get; }

    public IReadOnlyDictionary<StateEventKey, Pdu> State => state;

    public static RoomVersion VersionOf(string id) =>
        RoomVersion.TryGet(id, out var version) ? version : throw new ArgumentException(id);

    public static string CreateContent(RoomVersion version, UserId creator) => version.CreatorIsSender
        ? $$"""{ "room_version": "{{version.Id}}" }"""
        : $$"""{ "room_version": "{{version.Id}}", "creator": "{{creator}}" }""";

    /// <summary>Create, Alice's join, power levels (unless null) and join rules, each checked by the rules.</summary>
    public static TestRoom Create(string versionId, string joinRule = JoinRules.Public, string? powerLevels = StandardPowerLevels)
    {
        var room = new TestRoom(VersionOf(versionId));
        room.Send(Alice, EventTypes.Create, "", CreateContent(room.Version, Alice));
        room.Send(Alice, EventTypes.Member, Alice.Value, """{ "membership": "join" }""");
        if (powerLevels is not null)
            room.Send(Alice, EventTypes.PowerLevels, "", powerLevels);
        room.Send(Alice, EventTypes.JoinRules, "", $$"""{ "join_rule": "{{joinRule}}" }""");
        return room;
    }

    public Pdu Build(UserId sender, string type, string? stateKey, string content = "{}",
        EventId? redacts = null, IReadOnlyList<EventId>? prevEvents = null)
    {
        var contentObject = JsonNode.Parse(content)!.AsObject();
        return TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = Version,
            RoomId = RoomId,
            Sender = sender,
            Type = type,
            StateKey = stateKey,
            Content = contentObject,
            PrevEvents = prevEvents ?? latest,
            AuthEvents = AuthEventSelector.Select(type, stateKey, sender, contentObject, state),
            Depth = depth + 1,
            OriginServerTs = 1_000 + depth,
            Redacts = redacts,
            ReferencedContentHashes = contentHashes,
        }).Pdu;
    }

    public AuthResult Check(Pdu pdu) => EventAuthorizer.Authorize(Version, pdu, state);

    public AuthResult Check(UserId sender, string type, string? stateKey, string content = "{}") =>
        Check(Build(sender, type, stateKey, content));

    public AuthResult CheckMembership(UserId sender, UserId target, string membership, string extraContent = "") =>
        Check(Build(sender, EventTypes.Member, target.Value, MembershipContent(membership, extraContent)));

    /// <summary>Builds, asserts the rules allow it, and applies it.</summary>
    public Pdu Send(UserId sender, string type, string? stateKey, string content = "{}")
    {
        var pdu = Build(sender, type, stateKey, content);
        var result = Check(pdu);
        Assert.True(result.IsAllowed, result.Reason);
        Apply(pdu);
        return pdu;
    }

    /// <summary>Applies an event without checking it, to reach a state quickly.</summary>
    public Pdu Force(UserId sender, string type, string? stateKey, string content = "{}")
    {
        var pdu = Build(sender, type, stateKey, content);
        Apply(pdu);
        return pdu;
    }

    public void SetMembership(UserId user, string membership, UserId? sender = null) =>
        Force(sender ?? user, EventTypes.Member, user.Value, MembershipContent(membership, ""));

    public void Apply(Pdu pdu)
    {
        if (pdu.StateKey is not null)
            state[new StateEventKey(pdu.Type, pdu.StateKey)] = pdu;
        latest = [pdu.EventId];
        contentHashes[pdu.EventId] = pdu.ContentHash!;
        depth++;
    }

    public static string MembershipContent(string membership, string extraContent) =>
        extraContent.Length == 0
            ? $$"""{ "membership": "{{membership}}" }"""
            : $$"""{ "membership": "{{membership}}", {{extraContent}} }""";
}

internal static class AuthAssert
{
    public static void Allowed(AuthResult result) => Assert.True(result.IsAllowed, result.Reason);

    public static void Rejected(AuthResult result, string reasonFragment)
    {
        Assert.False(result.IsAllowed, "expected a rejection");
        Assert.Contains(reasonFragment, result.Reason, StringComparison.OrdinalIgnoreCase);
    }
}
