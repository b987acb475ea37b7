using System.Text.Json.Serialization;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Membership;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

/// <summary>Operator endpoints for server admins: list the silos, drain one (as SIGTERM would).</summary>
internal static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/_homeserver/admin");
        admin.MapGet("/silos", ListSilosAsync);
        admin.MapPost("/silos/{siloId}/drain", DrainAsync);
    }

    private static async Task<IResult> ListSilosAsync(HttpContext context, IClusterControl cluster)
    {
        await context.RequireAdminSessionAsync();
        var view = await cluster.ReadMembershipAsync(context.RequestAborted);
        var silos = view.Snapshot.Entries
            .OrderBy(e => e.Address.ToString(), StringComparer.Ordinal)
            .Select(e => new SiloInfo(e.Address.ToString(), e.SiloName, e.Status.ToString(), e.StartTime.ToUnixTimeMilliseconds()))
            .ToArray();
        return TypedResults.Json(new SiloList(view.Version, silos), AdminJsonContext.Default.SiloList);
    }

    private static async Task<IResult> DrainAsync(HttpContext context, IClusterControl cluster, string siloId)
    {
        await context.RequireAdminSessionAsync();
        var view = await cluster.ReadMembershipAsync(context.RequestAborted);
        var silo = view.Snapshot.Entries.FirstOrDefault(e => e.Address.ToString() == siloId && e.Status is SiloStatus.Active or SiloStatus.Joining)
            ?? throw new MatrixException(StatusCodes.Status404NotFound, "M_NOT_FOUND", $"No running silo {siloId}.");
        await cluster.RequestDrainAsync(silo.Address, context.RequestAborted);
        return TypedResults.Json(new DrainAccepted(siloId), AdminJsonContext.Default.DrainAccepted, statusCode: StatusCodes.Status202Accepted);
    }
}

internal sealed record SiloInfo(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("start_time")] long StartTime);

internal sealed record SiloList(
    [property: JsonPropertyName("membership_version")] long MembershipVersion,
    [property: JsonPropertyName("silos")] SiloInfo[] Silos);

internal sealed record DrainAccepted([property: JsonPropertyName("draining")] string Silo);

[JsonSerializable(typeof(SiloList))]
[JsonSerializable(typeof(DrainAccepted))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
