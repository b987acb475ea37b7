using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.ToDevice;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// PUT /sendToDevice/{eventType}/{txnId} (the spec's Send-to-Device module). The body is bounded by the gateway's largest
/// body (<see cref="MatrixGatewayOptions.MaxRequestBodyBytes"/>), each message's content by <see cref="ToDeviceLimits"/>;
/// the messages are stored and delivered by the sender's to-device grain.
/// </summary>
internal static class ToDeviceEndpoints
{
    public static void MapToDeviceEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPut("/_matrix/client/v3/sendToDevice/{eventType}/{txnId}", SendAsync);
    }

    private static async Task<IResult> SendAsync(HttpContext context, string eventType, string txnId, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var type = RoomPath.Key(eventType, "event type");
        var transactionId = RoomPath.Key(txnId, "transaction id");
        var messages = ReadMessages(await AccountsJsonBody.ReadObjectAsync(context.Request));
        await grains.GetGrain<IToDeviceGrain>(session.UserId).SendAsync(new ToDeviceSend(session.DeviceId, transactionId, type, messages));
        return AccountsJsonBody.Empty();
    }

    /// <summary>The body's <c>messages</c>: by user id, by device id or "*" (all the user's devices), a content object.</summary>
    private static List<ToDeviceMessageRequest> ReadMessages(JsonElement body)
    {
        // Synapse answers a missing messages key with M_MISSING_PARAM.
        if (!body.TryGetProperty("messages", out var messages)) throw RoomPath.MissingParam("Missing key 'messages'.");
        if (messages.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("messages must be an object.");
        var result = new List<ToDeviceMessageRequest>();
        foreach (var user in messages.EnumerateObject())
        {
            if (!UserId.IsValid(user.Name)) throw RoomPath.InvalidParam($"'{user.Name}' is not a user ID.");
            if (user.Value.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson($"The messages for {user.Name} must be an object of devices.");
            foreach (var device in user.Value.EnumerateObject())
            {
                if (device.Name.Length == 0 || device.Name.Contains('\0') || System.Text.Encoding.UTF8.GetByteCount(device.Name) > 255)
                    throw RoomPath.InvalidParam("A device id must be 1 to 255 bytes without NUL.");
                if (device.Value.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("Each message's content must be an object.");
                var content = AccountsJsonBody.Compact(device.Value);
                if (content.Length > ToDeviceLimits.MaxContentBytes)
                    throw new MatrixException(StatusCodes.Status413PayloadTooLarge, MatrixErrorCode.TooLarge,
                        $"A message's content is at most {ToDeviceLimits.MaxContentBytes} bytes.");
                if (result.Count == ToDeviceLimits.MaxMessagesPerRequest)
                    throw new MatrixException(StatusCodes.Status413PayloadTooLarge, MatrixErrorCode.TooLarge,
                        $"At most {ToDeviceLimits.MaxMessagesPerRequest} messages may be sent at once.");
                result.Add(new ToDeviceMessageRequest(user.Name, device.Name == "*" ? null : device.Name, content));
            }
        }
        return result;
    }
}
