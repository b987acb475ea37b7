using HomeServer.Grains.Sync;

namespace HomeServer.Grains.Tests.Sync;

public class SyncTokenPresenceTests
{
    [Fact]
    public void The_presence_position_travels_as_a_last_part_after_the_delivered_events()
    {
        var plain = new SyncToken(1042, 17, 96, 1839201, 4) { Presence = 33 };
        var delivered = plain with { Delivered = DeliveredEvents.None.With([1045, 1046]) };

        Assert.Equal("s1042_17_96_1839201.4_p33", plain.ToString());
        Assert.Equal("s1042_17_96_1839201.4_3.1_p33", delivered.ToString());
        Assert.Equal(plain, SyncToken.TryParse(plain.ToString()));
        Assert.Equal(delivered, SyncToken.TryParse(delivered.ToString()));
        Assert.Equal([1045L, 1046L], SyncToken.TryParse(delivered.ToString())!.Delivered.Positions);
    }

    [Theory]
    [InlineData("s1042_17_96_1839201.4")]
    [InlineData("s1042_17_96_1839201.4_3.1")]
    public void A_token_without_presence_still_parses_at_presence_position_zero(string text)
    {
        var token = SyncToken.TryParse(text);
        Assert.NotNull(token);
        Assert.Equal(0, token.Presence);
        Assert.Equal(text, token.ToString());
    }

    [Theory]
    [InlineData("s1_2_3_4.5_p")]
    [InlineData("s1_2_3_4.5_p0")]
    [InlineData("s1_2_3_4.5_p01")]
    [InlineData("s1_2_3_4.5_p-1")]
    [InlineData("s1_2_3_4.5_px")]
    [InlineData("s1_2_3_4.5_p1_p2")]
    [InlineData("s1_2_3_p1")]
    [InlineData("s1_2_3_4.5_p1_3.1")]
    public void A_malformed_presence_part_is_not_a_token(string text) => Assert.Null(SyncToken.TryParse(text));

    [Fact]
    public void Device_list_and_to_device_positions_travel_as_tagged_parts_after_presence()
    {
        var token = new SyncToken(1042, 17, 96, 1839201, 4) { Presence = 33, DeviceLists = 7, ToDevice = 12 };
        var withoutPresence = token with { Presence = 0, Delivered = DeliveredEvents.None.With([1045]) };

        Assert.Equal("s1042_17_96_1839201.4_p33_d7_t12", token.ToString());
        Assert.Equal("s1042_17_96_1839201.4_3_d7_t12", withoutPresence.ToString());
        Assert.Equal(token, SyncToken.TryParse(token.ToString()));
        Assert.Equal(withoutPresence, SyncToken.TryParse(withoutPresence.ToString()));
        Assert.Equal(12, SyncToken.TryParse("s1_2_3_4.5_t12")!.ToDevice);
    }

    [Theory]
    [InlineData("s1_2_3_4.5_t1_d2")]
    [InlineData("s1_2_3_4.5_d1_p2")]
    [InlineData("s1_2_3_4.5_d1_d2")]
    [InlineData("s1_2_3_4.5_t0")]
    [InlineData("s1_2_3_4.5_dx")]
    [InlineData("s1_2_3_4.5_t1_3.1")]
    public void Tagged_parts_out_of_order_repeated_or_zero_are_not_a_token(string text) => Assert.Null(SyncToken.TryParse(text));
}
