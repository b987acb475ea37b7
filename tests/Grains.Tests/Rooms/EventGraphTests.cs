using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>
/// The graph walks of /backfill and /get_missing_events over a room whose log interleaves two branches:
/// <c>c ← p ← {a1 ← a2} and {b1 ← b2}</c>, merged by <c>m</c>, logged as c, p, b1, a1, b2, a2, m (ids <c>$c:example.org</c>, ...).
/// </summary>
public sealed class EventGraphTests
{
    private const string RoomId = "!graph:example.org";

    private readonly Dictionary<string, StoredEvent> _events = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pdu> _rejected = new(StringComparer.Ordinal);

    public EventGraphTests()
    {
        Add("$c:example.org", 1, []);
        Add("$p:example.org", 2, ["$c:example.org"]);
        Add("$b1:example.org", 3, ["$p:example.org"]);
        Add("$a1:example.org", 3, ["$p:example.org"]);
        Add("$b2:example.org", 4, ["$b1:example.org"]);
        Add("$a2:example.org", 4, ["$a1:example.org"]);
        Add("$m:example.org", 5, ["$a2:example.org", "$b2:example.org"]);
    }

    [Fact]
    public async Task Backfill_from_a_branch_head_gives_only_that_branchs_ancestors()
    {
        Assert.Equal(["$a2:example.org", "$a1:example.org", "$p:example.org", "$c:example.org"], Ids(await EventGraph.BackfillAsync([_events["$a2:example.org"]], 10, LookupAsync)));
        Assert.Equal(["$b2:example.org", "$b1:example.org", "$p:example.org"], Ids(await EventGraph.BackfillAsync([_events["$b2:example.org"]], 3, LookupAsync)));
    }

    [Fact]
    public async Task Backfill_goes_deepest_first_and_the_later_arrival_first_among_equal_depths()
    {
        Assert.Equal(["$m:example.org", "$a2:example.org", "$b2:example.org", "$a1:example.org", "$b1:example.org"], Ids(await EventGraph.BackfillAsync([_events["$m:example.org"]], 5, LookupAsync)));
        Assert.Equal(["$a1:example.org", "$b1:example.org", "$p:example.org"], Ids(await EventGraph.BackfillAsync([_events["$b1:example.org"], _events["$a1:example.org"], _events["$b1:example.org"]], 3, LookupAsync)));
    }

    [Fact]
    public async Task Missing_events_stop_at_earliest_events_per_branch_and_come_oldest_first_by_depth_then_arrival()
    {
        Assert.Equal(["$b1:example.org", "$a1:example.org", "$b2:example.org", "$a2:example.org"], Ids(await EventGraph.MissingAsync([_events["$m:example.org"]], ["$p:example.org"], 10, 0, LookupAsync)));
        Assert.Equal(["$c:example.org", "$p:example.org", "$a1:example.org", "$a2:example.org"], Ids(await EventGraph.MissingAsync([_events["$m:example.org"]], ["$b2:example.org"], 10, 0, LookupAsync)));
        Assert.Equal(["$b2:example.org", "$a2:example.org"], Ids(await EventGraph.MissingAsync([_events["$m:example.org"]], [], 2, 0, LookupAsync)));
        Assert.Equal(["$b1:example.org", "$a1:example.org", "$b2:example.org", "$a2:example.org"], Ids(await EventGraph.MissingAsync([_events["$m:example.org"]], [], 10, 3, LookupAsync)));
        Assert.Empty(await EventGraph.MissingAsync([_events["$m:example.org"]], ["$m:example.org"], 10, 0, LookupAsync));
    }

    [Fact]
    public async Task A_rejected_event_is_walked_through_but_not_given_and_an_unknown_one_ends_its_branch()
    {
        Reject("$r:example.org", 5, ["$a2:example.org"]);
        Add("$after:example.org", 6, ["$r:example.org", "$unknown:example.org"]);

        Assert.Equal(["$after:example.org", "$a2:example.org", "$a1:example.org"], Ids(await EventGraph.BackfillAsync([_events["$after:example.org"]], 3, LookupAsync)));
        Assert.Equal(["$a1:example.org", "$a2:example.org"], Ids(await EventGraph.MissingAsync([_events["$after:example.org"]], ["$p:example.org"], 10, 0, LookupAsync)));
    }

    private Task<EventGraph.Node?> LookupAsync(string eventId) => Task.FromResult(
        _events.TryGetValue(eventId, out var stored) ? EventGraph.Node.Of(stored)
        : _rejected.TryGetValue(eventId, out var rejected) ? EventGraph.Node.WalkedThrough(rejected)
        : null);

    private static List<string> Ids(IEnumerable<StoredEvent> events) => events.Select(e => e.EventId).ToList();

    private void Add(string eventId, long depth, string[] prevEvents)
    {
        var json = Encoding.UTF8.GetBytes(Json(depth, prevEvents));
        _events[eventId] = new StoredEvent(RoomId, _events.Count + 1, _events.Count + 1, eventId, "m.room.message", null, "@u:example.org", 0, null, false, json);
    }

    private void Reject(string eventId, long depth, string[] prevEvents) =>
        _rejected[eventId] = Pdu.Parse(EventId.Parse(eventId), Encoding.UTF8.GetBytes(Json(depth, prevEvents)));

    private static string Json(long depth, string[] prevEvents) => new JsonObject
    {
        ["content"] = new JsonObject(),
        ["depth"] = depth,
        ["prev_events"] = new JsonArray(prevEvents.Select(p => (JsonNode)p).ToArray()),
        ["room_id"] = RoomId,
        ["sender"] = "@u:example.org",
        ["type"] = "m.room.message",
    }.ToJsonString();
}
