using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms.Gaps;

namespace HomeServer.Grains.Tests.Rooms.Gaps;

public sealed class MissingEventGraphTests
{
    private static MissingEvent Event(string name, long depth, params string[] prevs) => new(Id(name), [], prevs.Select(p => Id(p).Value).ToList(), depth);

    private static EventId Id(string name) => EventId.Parse($"${name}:example.org");

    private static string IdOf(string name) => Id(name).Value;

    [Fact]
    public void The_walk_follows_previous_events_through_what_was_fetched_and_reports_each_open_end_with_the_event_citing_it()
    {
        var graph = new MissingEventGraph();
        graph.TryAdd(Event("c", 3, "b"));
        graph.TryAdd(Event("b", 2, "a"));
        graph.TryAdd(Event("stray", 9, "elsewhere")); // Not on the way to the received event.

        var (reachable, openEnds) = graph.Walk(IdOf("received"), [IdOf("c")]);

        Assert.Equal([IdOf("b"), IdOf("c")], reachable.Select(e => e.EventId.Value).Order(StringComparer.Ordinal));
        Assert.Equal([new OpenEnd(IdOf("b"), IdOf("a"))], openEnds);
    }

    [Fact]
    public void A_walk_from_an_unfetched_previous_event_ends_at_the_received_event()
    {
        var (reachable, openEnds) = new MissingEventGraph().Walk(IdOf("received"), [IdOf("x"), IdOf("y")]);

        Assert.Empty(reachable);
        Assert.Equal([IdOf("x"), IdOf("y")], openEnds.Select(e => e.Missing).Order(StringComparer.Ordinal));
        Assert.All(openEnds, e => Assert.Equal(IdOf("received"), e.CitedBy));
    }

    [Fact]
    public void Events_of_a_fork_and_its_merge_come_after_every_previous_event_shallower_first()
    {
        // a <- b1 <- b2 <- merge, a <- c1 <- merge: the merge after both branches, whatever the depths say.
        var events = new[]
        {
            Event("merge", 4, "b2", "c1"),
            Event("b2", 3, "b1"),
            Event("c1", 2, "a"),
            Event("b1", 2, "a"),
            Event("a", 1, "known"),
        };

        var ordered = MissingEventGraph.OldestFirst(events).Select(e => e.EventId.Value).ToList();

        Assert.Equal(5, ordered.Count);
        Assert.Equal(IdOf("a"), ordered[0]);
        Assert.Equal(IdOf("merge"), ordered[^1]);
        Assert.True(ordered.IndexOf(IdOf("b1")) < ordered.IndexOf(IdOf("b2")));
        Assert.Equal(new[] { IdOf("b1"), IdOf("c1") }.Order(StringComparer.Ordinal).First(), ordered[1]);
    }

    [Fact]
    public void A_lying_depth_does_not_put_an_event_before_its_previous_event()
    {
        var ordered = MissingEventGraph.OldestFirst([Event("child", 1, "parent"), Event("parent", 50, "known")]);

        Assert.Equal([IdOf("parent"), IdOf("child")], ordered.Select(e => e.EventId.Value));
    }

    [Fact]
    public void Events_on_a_cycle_are_left_out()
    {
        var ordered = MissingEventGraph.OldestFirst([Event("x", 1, "y"), Event("y", 2, "x"), Event("z", 3, "known")]);

        Assert.Equal([IdOf("z")], ordered.Select(e => e.EventId.Value));
    }
}
