using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

internal static class AccountEndpoints
{
    /// <summary>Registration, login, password, deactivation, devices, profile, account data, filters, capabilities and push rules.</summary>
    public static void MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapRegistrationEndpoints();
        endpoints.MapSharedSecretRegistrationEndpoints();
        endpoints.MapLoginEndpoints();
        endpoints.MapPasswordEndpoints();
        endpoints.MapDeactivationEndpoints();
        endpoints.MapDeviceEndpoints();
        endpoints.MapProfileEndpoints();
        endpoints.MapAccountDataEndpoints();
        endpoints.MapFilterEndpoints();
        endpoints.MapCapabilitiesEndpoints();
        endpoints.MapPushRuleEndpoints();
        endpoints.MapRefreshEndpoints();
        endpoints.MapOpenIdEndpoints();
    }
}
