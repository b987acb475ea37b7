using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Hosting;

public static class SiloHostingExtensions
{
    /// <summary>
    /// Runs a silo inside this host: started with the host (joins the cluster before the host serves requests),
    /// drained when the host stops. Grains are created from this container, so they can take services.
    /// Without another <see cref="IMembershipTable"/> registered, the silo forms a single-node cluster in memory.
    /// </summary>
    public static IServiceCollection AddSilo(this IServiceCollection services, Action<SiloOptions> configure, Action<GrainTypeRegistry> grains) =>
        services.AddSilo((_, options) => configure(options), grains);

    /// <inheritdoc cref="AddSilo(IServiceCollection, Action{SiloOptions}, Action{GrainTypeRegistry})"/>
    public static IServiceCollection AddSilo(this IServiceCollection services, Action<IServiceProvider, SiloOptions> configure, Action<GrainTypeRegistry> grains)
    {
        var registry = new GrainTypeRegistry();
        grains(registry);
        services.AddSingleton(registry);
        services.TryAddSingleton<IMembershipTable, InMemoryMembershipTable>();
        services.TryAddSingleton<WireSerializer>();
        services.AddSingleton(provider =>
        {
            var options = new SiloOptions();
            configure(provider, options);
            return new Silo(options, registry, provider.GetRequiredService<IMembershipTable>(), provider,
                provider.GetRequiredService<WireSerializer>(), provider.GetRequiredService<ILoggerFactory>());
        });
        services.AddSingleton<IGrainFactory>(provider => provider.GetRequiredService<Silo>());
        services.AddSingleton<IClusterControl>(provider => provider.GetRequiredService<Silo>());
        services.AddHostedService<SiloHostedService>();
        return services;
    }

    private sealed class SiloHostedService(Silo silo, IHostApplicationLifetime lifetime) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            silo.DeclaredDead += lifetime.StopApplication;
            silo.DrainRequested += lifetime.StopApplication;
            await silo.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        public Task StopAsync(CancellationToken cancellationToken) => silo.StopAsync(cancellationToken);
    }
}
