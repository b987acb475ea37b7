using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

internal static class AccountEndpoints
{
    /// <summary>Registration, login, password, deactivation, devices, profile, account data, filters, capabilities, push rules, refresh and OpenID tokens, 3PIDs, third-party look-ups, VoIP, support contacts and whois.</summary>
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
        endpoints.MapThreePidEndpoints();
        endpoints.MapThirdPartyLookupEndpoints();
        endpoints.MapVoipEndpoints();
        endpoints.MapSupportEndpoints();
        endpoints.MapWhoisEndpoints();
        endpoints.MapAccountModerationEndpoints();
    }
}
