using HomeServer.Grains.Cluster;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Pushers;
using HomeServer.Grains.Sync;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;

namespace HomeServer.Grains;

public static class HomeServerGrains
{
    /// <summary>
    /// What the homeserver's grains need on every silo beyond the grain classes themselves (which the Orleans code
    /// generator registers): silo-keyed placement, the idempotent retry and store failure filters, the local sync grain
    /// registry, the bound on initial syncs built at once, the release of parked long-polls and the server's signing
    /// key, loaded before any grain runs.
    /// </summary>
    public static ISiloBuilder AddHomeServerGrains(this ISiloBuilder silo)
    {
        silo.AddPlacementDirector<SiloKeyedPlacement, SiloKeyedPlacementDirector>();
        silo.AddOutgoingGrainCallFilter<IdempotentRetryFilter>();
        silo.AddIncomingGrainCallFilter<StoreFailureFilter>();
        var services = silo.Services;
        services.TryAddSingleton<LocalSyncGrains>();
        services.TryAddSingleton<InitialSyncGate>();
        services.TryAddSingleton<RecentEventPlaces>();
        services.TryAddSingleton<StreamPositionsReader>();
        services.TryAddSingleton<SharedMemberReads>();
        services.TryAddSingleton<SharedCurrentStateReads>();
        services.TryAddSingleton<Presence.IPresenceAnnouncer, Presence.PresenceAnnouncer>();
        services.TryAddSingleton<Presence.PresenceWrites>();
        services.TryAddSingleton<ActiveSilos>();
        services.TryAddSingleton<ParkedSyncRelease>();
        services.TryAddSingleton<PushGatewayDispatcher>();
        services.TryAddSingleton<LocalSigningKey>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, LocalSigningKeyLoader>();
        AddFederationTransport(services);
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Federation.Outbound.FederationCatchUpOnStart>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(provider => provider.GetRequiredService<ParkedSyncRelease>());
        return silo;
    }

    /// <summary>Outbound federation: discovery (well-known lookups follow redirects) and the signing client.</summary>
    private static void AddFederationTransport(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ISrvResolver, DnsSrvResolver>();
        services.TryAddSingleton(provider => new ServerDiscovery(
            new HttpClient(FederationHttpHandler.Create(provider.GetRequiredService<IOptions<FederationTransportOptions>>().Value, followRedirects: true)),
            provider.GetRequiredService<ISrvResolver>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<ILogger<ServerDiscovery>>()));
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<FederationTransportOptions>>();
            // The client bounds each request itself (FederationTransportOptions.RequestTimeout).
            var http = new HttpClient(FederationHttpHandler.Create(options.Value)) { Timeout = Timeout.InfiniteTimeSpan };
            return new FederationClient(http, provider.GetRequiredService<ServerDiscovery>(), provider.GetRequiredService<LocalSigningKey>(),
                provider.GetRequiredService<LocalServer>(), options);
        });
        services.TryAddSingleton<Media.RemoteMediaFetcher>();
        services.TryAddSingleton(provider => new ThirdPartyInvites.IdentityServerClient(
            new HttpClient(FederationHttpHandler.Create(provider.GetRequiredService<IOptions<FederationTransportOptions>>().Value)) { Timeout = Timeout.InfiniteTimeSpan },
            provider.GetRequiredService<IOptions<FederationTransportOptions>>()));
    }
}
