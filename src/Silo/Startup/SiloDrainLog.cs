using Orleans;
using Orleans.Runtime;

namespace HomeServer.Silo.Startup;

/// <summary>Says in the log when this silo starts to drain (its grains deactivate and move) and when it has left.</summary>
internal sealed partial class SiloDrainLog(ILocalSiloDetails silo, ILogger<SiloDrainLog> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(SiloDrainLog),
            ServiceLifecycleStage.Active,
            _ => Task.CompletedTask,
            _ =>
            {
                LogDraining(silo.SiloAddress.ToParsableString());
                return Task.CompletedTask;
            });

    [LoggerMessage(Level = LogLevel.Information, Message = "Silo {Silo} is draining: its grains deactivate and are placed elsewhere on their next call")]
    private partial void LogDraining(string silo);
}
