using HomeServer.Gateway.Endpoints;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway;

public static class MatrixClientApiEndpointRouteBuilderExtensions
{
    /// <summary>Maps the Client-Server API, server discovery and the health endpoints.</summary>
    public static IEndpointRouteBuilder MapMatrixClientApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapDiscoveryEndpoints();
        endpoints.MapHealthEndpoints();
        endpoints.MapAccountEndpoints();
        endpoints.MapSyncEndpoints();
        endpoints.MapPresenceEndpoints();
        endpoints.MapKeyBackupEndpoints();
        endpoints.MapPusherEndpoints();
        endpoints.MapToDeviceEndpoints();
        endpoints.MapKeysEndpoints();
        endpoints.MapMediaEndpoints();
        endpoints.MapRoomCreationEndpoints();
        endpoints.MapRoomMembershipEndpoints();
        endpoints.MapKnockEndpoints();
        endpoints.MapRoomEventEndpoints();
        endpoints.MapRoomReadEndpoints();
        endpoints.MapRelationEndpoints();
        endpoints.MapRoomDirectoryEndpoints();
        endpoints.MapRoomEphemeralEndpoints();
        endpoints.MapSearchEndpoints();
        endpoints.MapLegacySyncEndpoints();
        endpoints.MapRoomTagEndpoints();
        endpoints.MapReportEndpoints();
        endpoints.MapMutualRoomsEndpoints();
        endpoints.MapSpaceEndpoints();
        endpoints.MapRoomUpgradeEndpoints();
        endpoints.MapAdminEndpoints();
        endpoints.MapMetricsEndpoints();
        endpoints.MapServerKeyEndpoints();
        endpoints.MapKeyNotaryEndpoints();
        endpoints.MapFederationEndpoints();
        return endpoints;
    }
}
