using System.Text.Json.Serialization;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Operator endpoints for server admins: list the silos, drain one (as SIGTERM would).</summary>
internal static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/_homeserver/admin").WithBodySize(BodySize.Small);
        admin.MapGet("/silos", ListSilosAsync);
        admin.MapPost("/silos/{siloId}/drain", DrainAsync);
    }

    private static async Task<IResult> ListSilosAsync(HttpContext context, IGrainFactory grains)
    {
        await context.RequireAdminSessionAsync();
        var silos = (await ReadMembershipAsync(grains))
            .OrderBy(e => e.SiloAddress.ToParsableString(), StringComparer.Ordinal)
            .Select(e => new SiloInfo(
                e.SiloAddress.ToParsableString(), e.SiloName, e.Status.ToString(), new DateTimeOffset(e.StartTime).ToUnixTimeMilliseconds()))
            .ToArray();
        return TypedResults.Json(new SiloList(silos), AdminJsonContext.Default.SiloList);
    }

    private static async Task<IResult> DrainAsync(HttpContext context, IGrainFactory grains, string siloId)
    {
        await context.RequireAdminSessionAsync();
        var silo = (await ReadMembershipAsync(grains))
            .FirstOrDefault(e => e.SiloAddress.ToParsableString() == siloId && e.Status is SiloStatus.Active or SiloStatus.Joining)
            ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"No running silo {siloId}.");
        await grains.GetGrain<ISiloControlGrain>(silo.SiloAddress.ToParsableString()).DrainAsync();
        return TypedResults.Json(new DrainAccepted(siloId), AdminJsonContext.Default.DrainAccepted, statusCode: StatusCodes.Status202Accepted);
    }

    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Every silo in the membership table, dead ones included. A read, so it is asked again (for up to about as long as
    /// failure detection takes) when the silo that answers for the management grain has just gone away; each attempt is
    /// given a few seconds, because a call that silo was answering when it crashed would otherwise wait for Orleans'
    /// 30 s response timeout.
    /// </summary>
    private static async Task<MembershipEntry[]> ReadMembershipAsync(IGrainFactory grains)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).WaitAsync(AttemptTimeout);
            }
            catch (Exception e) when (e is OrleansMessageRejectionException or ConnectionFailedException or TimeoutException && attempt < 10)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}

internal sealed record SiloInfo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("start_time")] long StartTime);

internal sealed record SiloList([property: JsonPropertyName("silos")] SiloInfo[] Silos);

internal sealed record DrainAccepted([property: JsonPropertyName("draining")] string Silo);

[JsonSerializable(typeof(SiloList))]
[JsonSerializable(typeof(DrainAccepted))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
