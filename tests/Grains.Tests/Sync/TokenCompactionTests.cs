using HomeServer.Grains.Sync;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Sync;

public sealed class TokenCompactionTests
{
    private const string Mine = "!mine:test";
    private const string Other = "!other:test";

    private static DeliveredEvents Delivered(params long[] positions) => DeliveredEvents.None.With(positions);

    private static EventPlacesWindow Window(long from, long upTo, params (long Position, string Room)[] places) =>
        new(places.Select(p => new EventPlace(p.Position, p.Room, null)).ToArray(), from, upTo);

    private static bool InMine(EventPlace place) => place.RoomId == Mine;

    [Fact]
    public void The_position_moves_over_delivered_events_and_events_of_other_rooms_up_to_the_window_end()
    {
        var window = Window(0, 20, (11, Mine), (12, Other), (13, Mine), (15, Other), (16, Mine));

        var (events, delivered) = TokenCompaction.Compact(10, Delivered(11, 13, 16), window, InMine);

        Assert.Equal(20, events);
        Assert.Equal(0, delivered.Count);
    }

    [Fact]
    public void The_position_stops_before_the_first_event_the_user_may_not_have()
    {
        var window = Window(0, 20, (11, Mine), (12, Other), (13, Mine), (14, Mine), (16, Mine));

        var (events, delivered) = TokenCompaction.Compact(10, Delivered(11, 14, 16), window, InMine);

        Assert.Equal(12, events);
        Assert.Equal([14L, 16L], delivered.Positions);
    }

    [Fact]
    public void Delivered_events_beyond_the_window_stay_in_the_token()
    {
        var window = Window(0, 12, (11, Mine), (12, Other));

        var (events, delivered) = TokenCompaction.Compact(10, Delivered(11, 13, 14), window, InMine);

        Assert.Equal(12, events);
        Assert.Equal([13L, 14L], delivered.Positions);
    }

    [Fact]
    public void A_window_behind_the_token_leaves_it_as_it_is()
    {
        var (events, delivered) = TokenCompaction.Compact(30, Delivered(31), Window(0, 20, (11, Mine)), InMine);

        Assert.Equal(30, events);
        Assert.Equal([31L], delivered.Positions);
    }

    [Fact]
    public void Places_after_a_position_skip_those_at_or_before_it()
    {
        var window = Window(5, 20, (7, Mine), (9, Other), (12, Mine));

        Assert.Equal([12L], window.After(9).ToArray().Select(p => p.GlobalPosition));
        Assert.Equal([9L, 12L], window.After(8).ToArray().Select(p => p.GlobalPosition));
        Assert.Equal(3, window.After(5).Length);
        Assert.True(window.StartsAtOrBefore(5));
        Assert.False(window.StartsAtOrBefore(4));
    }

    [Fact]
    public void A_window_extended_past_its_capacity_forgets_its_oldest_places_and_starts_after_them()
    {
        var window = Window(0, 3, (1, Mine), (2, Other), (3, Mine));

        var extended = window.Extend([new EventPlace(5, Mine, null), new EventPlace(6, Other, null)], end: 8, maxKept: 3);

        Assert.Equal(2, extended.From);
        Assert.Equal(8, extended.UpTo);
        Assert.Equal([3L, 5L, 6L], extended.After(0).ToArray().Select(p => p.GlobalPosition));
        Assert.Same(extended, extended.Extend([], end: 8, maxKept: 3));
    }
}
