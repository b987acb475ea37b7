using System.Buffers;
using System.Text.Json;
using HomeServer.Storage;

namespace HomeServer.Grains.Pushers;

/// <summary>The body of POST /_matrix/push/v1/notify (push-gateway-api) for one notification and one pusher.</summary>
public static class PushGatewayBody
{
    public const string EventIdOnly = "event_id_only";

    public static byte[] Write(PushNotice notice, StoredPusher pusher, long unread)
    {
        using var data = JsonDocument.Parse(pusher.Data);
        using var evt = JsonDocument.Parse(notice.EventJson);
        using var actions = JsonDocument.Parse(notice.Actions);
        var eventIdOnly = data.RootElement.TryGetProperty("format", out var format)
            && format.ValueKind == JsonValueKind.String && format.ValueEquals(EventIdOnly);
        var root = evt.RootElement;
        var type = StringOf(root, "type");

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("notification"u8);
            writer.WriteString("event_id"u8, notice.EventId);
            writer.WriteString("room_id"u8, notice.RoomId);
            if (!eventIdOnly)
            {
                if (type is not null) writer.WriteString("type"u8, type);
                if (StringOf(root, "sender") is { } sender) writer.WriteString("sender"u8, sender);
                if (notice.SenderDisplayName is not null) writer.WriteString("sender_display_name"u8, notice.SenderDisplayName);
                if (notice.RoomName is not null) writer.WriteString("room_name"u8, notice.RoomName);
                if (root.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Object)
                {
                    writer.WritePropertyName("content"u8);
                    content.WriteTo(writer);
                    if (type == "m.room.member" && StringOf(content, "membership") is { } membership)
                    {
                        writer.WriteString("membership"u8, membership);
                        writer.WriteBoolean("user_is_target"u8, StringOf(root, "state_key") == notice.UserId);
                    }
                }
            }
            writer.WriteString("prio"u8, IsHighPriority(notice, type) ? "high" : "low");
            writer.WriteStartObject("counts"u8);
            writer.WriteNumber("unread"u8, unread);
            writer.WriteEndObject();
            writer.WriteStartArray("devices"u8);
            writer.WriteStartObject();
            writer.WriteString("app_id"u8, pusher.AppId);
            writer.WriteString("pushkey"u8, pusher.Pushkey);
            writer.WriteNumber("pushkey_ts"u8, pusher.PushkeyTs / 1000);
            writer.WriteStartObject("data"u8);
            foreach (var property in data.RootElement.EnumerateObject())
            {
                if (property.NameEquals("url"u8)) continue;
                property.WriteTo(writer);
            }
            writer.WriteEndObject();
            WriteTweaks(writer, actions.RootElement);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Messages, calls and highlights wake the device; other notifications may wait.</summary>
    private static bool IsHighPriority(PushNotice notice, string? type) =>
        notice.Highlight || type is "m.room.message" or "m.room.encrypted" or "m.call.invite" or "m.room.member";

    /// <summary>The <c>set_tweak</c> actions as the device's tweaks; a tweak without a value is true (the spec's highlight).</summary>
    private static void WriteTweaks(Utf8JsonWriter writer, JsonElement actions)
    {
        writer.WriteStartObject("tweaks"u8);
        if (actions.ValueKind == JsonValueKind.Array)
        {
            foreach (var action in actions.EnumerateArray())
            {
                if (action.ValueKind != JsonValueKind.Object || StringOf(action, "set_tweak") is not { } tweak) continue;
                writer.WritePropertyName(tweak);
                if (action.TryGetProperty("value", out var value)) value.WriteTo(writer);
                else writer.WriteBooleanValue(true);
            }
        }
        writer.WriteEndObject();
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
