using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Health;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Presence;
using HomeServer.Gateway.Media;
using HomeServer.Gateway.Middleware;
using HomeServer.Gateway.Overload;
using HomeServer.Gateway.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway;

public static class MatrixGatewayServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the Client-Server API endpoints need: validated <see cref="MatrixGatewayOptions"/> and <see cref="InputLimitsOptions"/>,
    /// <see cref="ReadinessState"/>, the readiness health check, the rate limits (<see cref="RateLimitOptions"/>) and the in-flight
    /// bounds (<see cref="OverloadOptions"/>).
    /// </summary>
    public static IServiceCollection AddMatrixGateway(this IServiceCollection services, Action<MatrixGatewayOptions>? configure = null)
    {
        var options = services.AddOptions<MatrixGatewayOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MatrixGatewayOptions>, MatrixGatewayOptionsValidator>());
        services.AddOptions<InputLimitsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InputLimitsOptions>, InputLimitsOptionsValidator>());
        services.AddRequestLoggingWithoutSecrets();
        services.TryAddSingleton<ReadinessState>();
        services.AddHealthChecks().AddCheck<ReadinessHealthCheck>("readiness", tags: [GatewayHealthTags.Ready]);
        services.AddMatrixAccounts();
        services.AddMatrixRateLimits();
        services.AddOverloadAdmission();
        services.AddMatrixMedia();
        return services;
    }

    private static void AddOverloadAdmission(this IServiceCollection services)
    {
        services.AddOptions<OverloadOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OverloadOptions>, OverloadOptionsValidator>());
        services.TryAddSingleton<RequestAdmission>();
    }

    private static void AddMatrixRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitOptions>, RateLimitOptionsValidator>());
        services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<RateLimitOptions>>((forwarded, limits) => TrustedProxies.Configure(forwarded, limits.Value.TrustedProxies));
        services.TryAddSingleton<RateLimits>();
        services.TryAddSingleton<SyncPresenceMarks>();
        services.TryAddSingleton<CheckedInlineFilters>();
    }
}
