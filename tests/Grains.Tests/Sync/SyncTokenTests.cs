using HomeServer.Grains.Sync;

namespace HomeServer.Grains.Tests.Sync;

public class SyncTokenTests
{
    [Fact]
    public void A_token_round_trips_through_its_text()
    {
        var token = new SyncToken(1042, 17, 96, 1839201, 4);

        Assert.Equal("s1042_17_96_1839201.4", token.ToString());
        Assert.Equal(token, SyncToken.TryParse(token.ToString()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("s1_2_3")]
    [InlineData("s1_2_3_4")]
    [InlineData("s1_2_3_4.5.6")]
    [InlineData("x1_2_3_4.5")]
    [InlineData("s01_2_3_4.5")]
    [InlineData("s-1_2_3_4.5")]
    [InlineData("s+1_2_3_4.5")]
    [InlineData("s1_2_3_ 4.5")]
    [InlineData("s1_2_3_4294967296.5")]
    [InlineData("s1234567890123456789_2_3_4.5")]
    public void Anything_else_is_not_a_token(string? text) => Assert.Null(SyncToken.TryParse(text));
}

public class SyncTokenDeliveredEventsTests
{
    [Fact]
    public void Delivered_events_travel_in_the_token_as_steps_above_its_position()
    {
        var token = new SyncToken(1042, 17, 96, 1839201, 4) { Delivered = DeliveredEvents.None.With([1046, 1045, 1100]) };

        Assert.Equal("s1042_17_96_1839201.4_3.1.54", token.ToString());
        var parsed = SyncToken.TryParse(token.ToString());
        Assert.Equal(token, parsed);
        Assert.Equal([1045, 1046, 1100], parsed!.Delivered.Positions);
        Assert.True(parsed.Delivered.Contains(1046));
        Assert.False(parsed.Delivered.Contains(1047));
    }

    [Fact]
    public void A_store_read_keeps_only_the_delivered_events_above_its_end()
    {
        var delivered = DeliveredEvents.None.With([5, 9, 12]);
        Assert.Equal([9, 12], delivered.Above(5).Positions);
        Assert.Same(DeliveredEvents.None, delivered.Above(12));
        Assert.Same(delivered, delivered.Above(4));
    }

    [Theory]
    [InlineData("s1_2_3_4.5_")]
    [InlineData("s1_2_3_4.5_0")]
    [InlineData("s1_2_3_4.5_1..2")]
    [InlineData("s1_2_3_4.5_01")]
    [InlineData("s1_2_3_4.5_-1")]
    [InlineData("s1_2_3_4.5_1_2")]
    public void Malformed_delivered_events_are_not_a_token(string text) => Assert.Null(SyncToken.TryParse(text));

    [Fact]
    public void A_token_lists_at_most_the_maximum_of_delivered_events()
    {
        var steps = string.Join('.', Enumerable.Repeat("1", DeliveredEvents.MaxCount));
        Assert.NotNull(SyncToken.TryParse($"s1_2_3_4.5_{steps}"));
        Assert.Null(SyncToken.TryParse($"s1_2_3_4.5_{steps}.1"));
    }
}
