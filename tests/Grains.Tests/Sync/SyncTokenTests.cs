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
