using System.Buffers;
using System.Text;
using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Grains.PushRules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Pushers (client-server/pusher.yaml): GET /pushers and POST /pushers/set. Kind <c>http</c> only: this server sends
/// no email, so an <c>email</c> pusher is refused with M_INVALID_PARAM rather than stored and never used. The body is
/// checked completely before anything is stored.
/// </summary>
internal static class PusherEndpoints
{
    private const int MaxAppIdChars = 64;
    private const int MaxPushkeyBytes = 512;
    private const int MaxTextBytes = 1_024;
    private const string NotifyPath = "/_matrix/push/v1/notify";

    public static void MapPusherEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/pushers", GetPushersAsync);
        endpoints.MapPost("/_matrix/client/v3/pushers/set", SetPusherAsync);
    }

    private static async Task<IResult> GetPushersAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var pushers = await grains.GetGrain<IPushersGrain>(session.UserId).GetAsync();
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("pushers"u8);
            foreach (var pusher in pushers)
            {
                writer.WriteStartObject();
                writer.WriteString("pushkey"u8, pusher.Pushkey);
                writer.WriteString("kind"u8, pusher.Kind);
                writer.WriteString("app_id"u8, pusher.AppId);
                writer.WriteString("app_display_name"u8, pusher.AppDisplayName);
                writer.WriteString("device_display_name"u8, pusher.DeviceDisplayName);
                if (pusher.ProfileTag is not null) writer.WriteString("profile_tag"u8, pusher.ProfileTag);
                writer.WriteString("lang"u8, pusher.Lang);
                writer.WritePropertyName("data"u8);
                writer.WriteRawValue(pusher.Data, skipInputValidation: true);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return AccountsJsonBody.Bytes(buffer.WrittenSpan.ToArray());
    }

    private static async Task<IResult> SetPusherAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var pushers = grains.GetGrain<IPushersGrain>(session.UserId);

        if (!body.TryGetProperty("kind", out var kind)) throw AccountErrors.MissingParam("Missing kind.");
        if (kind.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)) throw MatrixException.BadJson("kind must be a string or null.");
        var appId = RequiredString(body, "app_id");
        var pushkey = RequiredString(body, "pushkey");
        if (appId.Length == 0 || appId.Length > MaxAppIdChars) throw AccountErrors.InvalidParam($"app_id must have 1 to {MaxAppIdChars} characters.");
        if (pushkey.Length == 0 || Encoding.UTF8.GetByteCount(pushkey) > MaxPushkeyBytes)
            throw AccountErrors.InvalidParam($"pushkey must have 1 to {MaxPushkeyBytes} bytes.");

        if (kind.ValueKind == JsonValueKind.Null)
        {
            await pushers.DeleteAsync(appId, pushkey);
            return AccountsJsonBody.Empty();
        }

        var kindName = kind.GetString()!;
        var appDisplayName = RequiredString(body, "app_display_name");
        var deviceDisplayName = RequiredString(body, "device_display_name");
        var lang = RequiredString(body, "lang");
        if (!body.TryGetProperty("data", out var data)) throw AccountErrors.MissingParam("Missing data.");
        if (data.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("data must be an object.");
        var profileTag = OptionalString(body, "profile_tag");
        var append = false;
        if (body.TryGetProperty("append", out var appendValue))
        {
            if (appendValue.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw MatrixException.BadJson("append must be a boolean.");
            append = appendValue.GetBoolean();
        }
        foreach (var (name, value) in new[] { ("app_display_name", appDisplayName), ("device_display_name", deviceDisplayName), ("lang", lang), ("profile_tag", profileTag ?? "") })
        {
            if (Encoding.UTF8.GetByteCount(value) > MaxTextBytes) throw AccountErrors.InvalidParam($"{name} is too long.");
        }

        switch (kindName)
        {
            case PusherKinds.Http:
                RequireHttpData(data);
                break;
            case PusherKinds.Email:
                throw AccountErrors.InvalidParam("This server does not send email notifications.");
            default:
                throw AccountErrors.InvalidParam($"Unknown pusher kind {kindName}.");
        }

        var pusher = new Pusher(appId, pushkey, kindName, appDisplayName, deviceDisplayName, profileTag, lang, AccountsJsonBody.Compact(data));
        await pushers.SetAsync(pusher, session.DeviceId, append);
        return AccountsJsonBody.Empty();
    }

    /// <summary>data.url: an absolute http(s) URL whose path is the push gateway's notify endpoint; data.format: event_id_only if given.</summary>
    private static void RequireHttpData(JsonElement data)
    {
        if (!data.TryGetProperty("url", out var url)) throw AccountErrors.MissingParam("An http pusher needs data.url.");
        if (url.ValueKind != JsonValueKind.String) throw MatrixException.BadJson("data.url must be a string.");
        if (!Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")
            || uri.AbsolutePath != NotifyPath || uri.UserInfo.Length > 0 || uri.Fragment.Length > 0)
            throw AccountErrors.InvalidParam($"data.url must be an http(s) URL with the path {NotifyPath}.");
        if (data.TryGetProperty("format", out var format)
            && (format.ValueKind != JsonValueKind.String || !format.ValueEquals("event_id_only")))
            throw AccountErrors.InvalidParam("data.format must be \"event_id_only\" if given.");
    }

    private static string RequiredString(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value)) throw AccountErrors.MissingParam($"Missing {name}.");
        if (value.ValueKind != JsonValueKind.String) throw MatrixException.BadJson($"{name} must be a string.");
        return value.GetString()!;
    }

    private static string? OptionalString(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw MatrixException.BadJson($"{name} must be a string.");
        return value.GetString();
    }
}
