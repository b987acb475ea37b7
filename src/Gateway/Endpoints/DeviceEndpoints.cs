using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>The logged-in user's devices. Deleting one revokes its access tokens and needs the password.</summary>
internal static class DeviceEndpoints
{
    private static readonly IReadOnlyList<IReadOnlyList<string>> DeleteFlows = [[UserInteractiveAuth.Password]];

    public static void MapDeviceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/devices", GetDevicesAsync);
        endpoints.MapGet("/_matrix/client/v3/devices/{deviceId}", GetDeviceAsync);
        endpoints.MapPut("/_matrix/client/v3/devices/{deviceId}", UpdateDeviceAsync).WithBodySize(BodySize.Small);
        endpoints.MapDelete("/_matrix/client/v3/devices/{deviceId}", DeleteDeviceAsync).WithBodySize(BodySize.Small);
        endpoints.MapPost("/_matrix/client/v3/delete_devices", DeleteDevicesAsync);
    }

    private static async Task<IResult> GetDevicesAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var devices = await grains.GetGrain<IUserGrain>(session.UserId).GetDevicesAsync();
        return TypedResults.Json(new DevicesResponse([.. devices.Select(ToResponse)]), AccountsJsonContext.Default.DevicesResponse);
    }

    private static async Task<IResult> GetDeviceAsync(HttpContext context, string deviceId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var device = await grains.GetGrain<IUserGrain>(session.UserId).GetDeviceAsync(deviceId) ?? throw DeviceNotFound();
        return TypedResults.Json(ToResponse(device), AccountsJsonContext.Default.DeviceResponse);
    }

    private static async Task<IResult> UpdateDeviceAsync(HttpContext context, string deviceId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.UpdateDeviceRequest, context.RequestAborted);
        var user = grains.GetGrain<IUserGrain>(session.UserId);
        // Without a display_name there is nothing to change, but the device must still exist.
        var found = body.DisplayName is null
            ? await user.GetDeviceAsync(deviceId) is not null
            : await user.RenameDeviceAsync(deviceId, body.DisplayName);
        return found ? AccountsJsonBody.Empty() : throw DeviceNotFound();
    }

    private static async Task<IResult> DeleteDeviceAsync(
        HttpContext context, string deviceId, [FromServices] IGrainFactory grains, [FromServices] UserInteractiveAuth uia)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadOptionalAsync(context.Request, AccountsJsonContext.Default.DeleteDeviceRequest);
        if (await uia.AuthorizeAsync(context, body?.Auth, DeleteFlows, session.UserId) is { } challenge) return challenge;
        await grains.GetGrain<IUserGrain>(session.UserId).DeleteDevicesAsync([deviceId]);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> DeleteDevicesAsync(
        HttpContext context, [FromServices] IGrainFactory grains, [FromServices] UserInteractiveAuth uia)
    {
        var session = await context.RequireSessionAsync();
        var body = await context.Request.ReadMatrixJsonAsync(AccountsJsonContext.Default.DeleteDevicesRequest, context.RequestAborted);
        if (await uia.AuthorizeAsync(context, body.Auth, DeleteFlows, session.UserId) is { } challenge) return challenge;
        await grains.GetGrain<IUserGrain>(session.UserId).DeleteDevicesAsync(body.Devices);
        return AccountsJsonBody.Empty();
    }

    private static DeviceResponse ToResponse(DeviceInfo device) =>
        new(device.DeviceId, device.DisplayName, device.LastSeenIp, device.LastSeenTs);

    private static Errors.MatrixException DeviceNotFound() => AccountErrors.NotFound("The current user has no device with the given ID.");
}
