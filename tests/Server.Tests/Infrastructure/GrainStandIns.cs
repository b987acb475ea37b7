using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>Swaps a grain class for a test stand-in of the same grain type, before the silo starts.</summary>
public static class GrainStandIns
{
    public static IServiceCollection Replace<TGrain, TStandIn>(IServiceCollection services)
    {
        services.PostConfigure<GrainTypeOptions>(options =>
        {
            options.Classes.Remove(typeof(TGrain));
            options.Classes.Add(typeof(TStandIn));
        });
        return services;
    }
}
