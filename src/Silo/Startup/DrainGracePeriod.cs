using HomeServer.Silo.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Startup;

/// <summary>
/// Holds the stop for <see cref="HomeServerOptions.DrainGracePeriod"/> before anything stops: readiness is already
/// false (the host is stopping) while Kestrel still accepts, so a load balancer takes the process out of rotation
/// before connections are refused.
/// </summary>
internal sealed partial class DrainGracePeriod(IOptions<HomeServerOptions> options, ILogger<DrainGracePeriod> logger) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var grace = options.Value.DrainGracePeriod;
        if (grace <= TimeSpan.Zero) return;
        LogWaiting(grace.TotalSeconds);
        try
        {
            await Task.Delay(grace, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Not ready; serving for {Seconds} s more before closing the listeners")]
    private partial void LogWaiting(double seconds);
}
