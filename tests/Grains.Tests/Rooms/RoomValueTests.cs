using HomeServer.Grains.Rooms;

namespace HomeServer.Grains.Tests.Rooms;

public class RoomValueTests
{
    [Theory]
    [InlineData("m.room.message", "m.room.message", true)]
    [InlineData("m.room.*", "m.room.message", true)]
    [InlineData("m.*.message", "m.room.message", true)]
    [InlineData("*", "anything", true)]
    [InlineData("m.room.*", "m.roomy", false)]
    [InlineData("m.room.message", "m.room.messages", false)]
    [InlineData("*.message", "m.room.member", false)]
    [InlineData("a*b*c", "aXbYbZc", true)]
    [InlineData("a*b*c", "aXbYcZ", false)]
    public void Type_patterns_treat_star_as_any_sequence(string pattern, string type, bool matches) =>
        Assert.Equal(matches, RoomEventFilter.TypePatternMatches(pattern, type));

    [Fact]
    public void Exclusions_win_over_inclusions_and_contains_url_selects_either_way()
    {
        var filter = new RoomEventFilter { Types = ["m.*"], NotTypes = ["m.room.member"], Senders = ["@a:t", "@b:t"], NotSenders = ["@b:t"] };

        Assert.True(filter.Matches("m.room.message", "@a:t", hasUrl: false));
        Assert.False(filter.Matches("m.room.member", "@a:t", hasUrl: false));
        Assert.False(filter.Matches("m.room.message", "@b:t", hasUrl: false));
        Assert.False(filter.Matches("org.custom", "@a:t", hasUrl: false));
        Assert.True(new RoomEventFilter { ContainsUrl = true }.Matches("x", "@a:t", hasUrl: true));
        Assert.False(new RoomEventFilter { ContainsUrl = true }.Matches("x", "@a:t", hasUrl: false));
        Assert.True(new RoomEventFilter { ContainsUrl = false }.Matches("x", "@a:t", hasUrl: false));
        Assert.False(new RoomEventFilter { Types = [] }.Matches("x", "@a:t", hasUrl: false));
    }

    [Theory]
    [InlineData("t0", 0L)]
    [InlineData("t42", 42L)]
    public void Stream_tokens_round_trip(string token, long position)
    {
        Assert.True(RoomStreamToken.TryParse(token, out var parsed));
        Assert.Equal(position, parsed);
        Assert.Equal(token, RoomStreamToken.Format(position));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("t")]
    [InlineData("42")]
    [InlineData("t-1")]
    [InlineData("t+1")]
    [InlineData("t1.5")]
    [InlineData("t99999999999999999999")]
    [InlineData("s12")]
    public void Malformed_stream_tokens_are_refused(string? token) =>
        Assert.False(RoomStreamToken.TryParse(token, out _));

    [Fact]
    public void Typing_serials_grow_with_every_change_and_timeouts_expire()
    {
        var now = 1_000L;
        var tracker = new TypingTracker(() => now);
        var start = tracker.State.Serial;

        Assert.True(tracker.Set("@a:t", true, 500));
        Assert.False(tracker.Set("@a:t", true, 5_000));
        Assert.True(tracker.Set("@b:t", true, 100));
        var both = tracker.State;
        Assert.Equal(["@a:t", "@b:t"], both.UserIds);
        Assert.True(both.Serial > start + 1);
        Assert.Equal(100, tracker.NextExpiryInMs());

        now += 150;
        Assert.True(tracker.Expire());
        Assert.Equal(["@a:t"], tracker.State.UserIds);
        Assert.False(tracker.Expire());
        Assert.True(tracker.Remove(["@a:t", "@c:t"]));
        Assert.Empty(tracker.State.UserIds);
        Assert.Null(tracker.NextExpiryInMs());
        Assert.True(tracker.State.Serial > both.Serial);
        Assert.False(tracker.Set("@a:t", false, 0));
    }

    [Fact]
    public void A_new_tracker_starts_above_the_serials_of_earlier_activations()
    {
        var now = 5_000L;
        var earlier = new TypingTracker(() => now);
        earlier.Set("@a:t", true, 1_000);
        earlier.Set("@b:t", true, 1_000);

        now += 1;
        Assert.True(new TypingTracker(() => now).State.Serial >= earlier.State.Serial);
    }

    [Fact]
    public void Typing_timeouts_are_capped()
    {
        var tracker = new TypingTracker(() => 0);
        tracker.Set("@a:t", true, long.MaxValue);
        Assert.Equal(TypingTracker.MaxTimeoutMs, tracker.NextExpiryInMs());
    }
}
