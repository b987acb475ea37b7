using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

public sealed class InitialSyncConfigurationTests
{
    [Fact]
    public async Task By_default_a_silo_builds_two_initial_syncs_per_processor_at_once()
    {
        var options = await BuiltServer.OptionsAsync<InitialSyncOptions>();

        Assert.Equal(2 * Environment.ProcessorCount, options.MaxConcurrentInitialSyncs);
    }

    [Theory]
    [InlineData("--SyncDelivery:MaxConcurrentInitialSyncs=0", "SyncDelivery:MaxConcurrentInitialSyncs must be greater than zero")]
    [InlineData("--SyncDelivery:MaxConcurrentInitialSyncs=many", "Failed to convert configuration value")]
    public void An_invalid_bound_is_reported_at_start(string argument, string failure)
    {
        var failures = BuiltServer.ConfigurationFailures(argument);

        Assert.Contains(failures, message => message.Contains(failure, StringComparison.Ordinal));
    }
}
