using HomeServer.Gateway.Media;

namespace HomeServer.Server.Tests.Media;

/// <summary>The freeze of unauthenticated media hides only media created from the freeze on.</summary>
public sealed class MediaFreezeTests
{
    [Fact]
    public void Media_from_before_the_freeze_stays_visible()
    {
        var frozenAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var options = new MediaOptions { UnauthenticatedMediaFrozenAt = frozenAt };
        Assert.False(options.HidesUnauthenticated(1_699_999_999_999));
        Assert.True(options.HidesUnauthenticated(1_700_000_000_000));
        Assert.True(options.HidesUnauthenticated(1_800_000_000_000));
        Assert.False(new MediaOptions().HidesUnauthenticated(1_800_000_000_000));
    }
}
