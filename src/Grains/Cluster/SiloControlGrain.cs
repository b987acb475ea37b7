using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Placement;

namespace HomeServer.Grains.Cluster;

[GrainType("silo-control")]
[SiloKeyedPlacement]
[Immovable(ImmovableKind.Any)]
public sealed partial class SiloControlGrain(IHostApplicationLifetime lifetime, SiloBuild build, ILogger<SiloControlGrain> logger)
    : HomeServerGrain, ISiloControlGrain
{
    public Task<string> GetBuildVersionAsync() => Task.FromResult(build.Version);

    public Task DrainAsync()
    {
        LogDrainRequested(Key);
        // After this call returns: the stop deactivates this grain, which waits for running calls.
        _ = Task.Run(lifetime.StopApplication);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain of silo {Silo} requested through the admin API")]
    private partial void LogDrainRequested(string silo);
}

/// <summary>The build of the homeserver this process runs, as the operator names it.</summary>
public sealed record SiloBuild(string Version);
