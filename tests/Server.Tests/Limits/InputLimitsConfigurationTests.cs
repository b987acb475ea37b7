using HomeServer.Gateway.Limits;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Limits;

public sealed class InputLimitsConfigurationTests
{
    [Fact]
    public async Task Defaults_are_the_documented_ones()
    {
        var limits = await BuiltServer.OptionsAsync<InputLimitsOptions>();
        var parking = await BuiltServer.OptionsAsync<ParkedSyncOptions>();

        Assert.Equal(64, limits.MaxJsonDepth);
        Assert.Equal(65_536, limits.MaxEventBodyBytes);
        Assert.Equal(16_384, limits.MaxSmallBodyBytes);
        Assert.Equal(100, limits.MaxInvitesPerRoomCreation);
        Assert.Equal(100, limits.MaxInitialStateEvents);
        Assert.Equal(1000, limits.MaxFilterListItems);
        Assert.Equal(255, limits.MaxFilterStringBytes);
        Assert.Equal(1000, limits.MaxConnectionsPerIp);
        Assert.Equal(20, parking.MaxParkedSyncsPerUser);
    }

    [Theory]
    [InlineData("--InputLimits:MaxJsonDepth=0", "InputLimits:MaxJsonDepth must be greater than zero")]
    [InlineData("--InputLimits:MaxJsonDepth=257", "InputLimits:MaxJsonDepth must be at most 256")]
    [InlineData("--InputLimits:MaxSmallBodyBytes=-1", "InputLimits:MaxSmallBodyBytes must be greater than zero")]
    [InlineData("--InputLimits:MaxConnectionsPerIp=-1", "InputLimits:MaxConnectionsPerIp must be 0")]
    [InlineData("--InputLimits:MaxParkedSyncsPerUser=0", "InputLimits:MaxParkedSyncsPerUser must be greater than zero")]
    [InlineData("--InputLimits:MaxFilterListItems=many", "Failed to convert configuration value")]
    public void Invalid_limits_are_reported_at_start(string argument, string failure)
    {
        var failures = BuiltServer.ConfigurationFailures(argument);

        Assert.Contains(failures, message => message.Contains(failure, StringComparison.Ordinal));
    }
}
