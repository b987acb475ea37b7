using System.Text;
using System.Text.Json;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.ToDevice;

namespace HomeServer.Grains.Federation.Transactions;

/// <summary>One PDU of a transaction: the room it names (null when it names none) and its JSON as received.</summary>
public sealed record TransactionPdu(string? RoomId, byte[] Json);

/// <summary>An <c>m.typing</c> EDU.</summary>
public sealed record TypingEdu(string RoomId, string UserId, bool Typing);

/// <summary>An <c>m.direct_to_device</c> EDU: its sender and its messages, the message id as the transaction id.</summary>
public sealed record DirectToDeviceEdu(string Sender, ToDeviceSend Send);

/// <summary>
/// The body of <c>PUT /_matrix/federation/v1/send/{txnId}</c>: <c>pdus</c> (required, at most 50) and <c>edus</c>
/// (optional, at most 100). A body that is not such an object, or over the limits, is refused as a whole (400
/// <c>M_BAD_JSON</c>); a malformed PDU or EDU inside it is not: PDUs are judged one by one by their room, and EDUs
/// this server does not understand are ignored.
/// </summary>
public sealed class InboundTransaction
{
    public const int MaxPdus = 50;
    public const int MaxEdus = 100;

    public required IReadOnlyList<TransactionPdu> Pdus { get; init; }

    public required IReadOnlyList<TypingEdu> Typing { get; init; }

    /// <summary>The <c>m.receipt</c> EDUs' receipts, per room.</summary>
    public required IReadOnlyDictionary<string, List<RemoteReceipt>> Receipts { get; init; }

    public required IReadOnlyList<DirectToDeviceEdu> DirectToDevice { get; init; }

    /// <summary>The users named by <c>m.device_list_update</c> EDUs, each once.</summary>
    public required IReadOnlyList<string> DeviceListUpdates { get; init; }

    public static InboundTransaction Parse(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw MatrixRequestException.BadJson($"The transaction is not valid JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw MatrixRequestException.BadJson("The transaction must be a JSON object.");
            if (!root.TryGetProperty("pdus", out var pdus) || pdus.ValueKind != JsonValueKind.Array)
                throw MatrixRequestException.BadJson("pdus must be an array.");
            if (pdus.GetArrayLength() > MaxPdus) throw MatrixRequestException.BadJson($"A transaction holds at most {MaxPdus} PDUs.");
            var edus = root.TryGetProperty("edus", out var e) ? e : default;
            if (edus.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.Array))
                throw MatrixRequestException.BadJson("edus must be an array.");
            if (edus.ValueKind == JsonValueKind.Array && edus.GetArrayLength() > MaxEdus)
                throw MatrixRequestException.BadJson($"A transaction holds at most {MaxEdus} EDUs.");

            var typing = new List<TypingEdu>();
            var receipts = new Dictionary<string, List<RemoteReceipt>>(StringComparer.Ordinal);
            var directToDevice = new List<DirectToDeviceEdu>();
            var deviceListUpdates = new List<string>();
            if (edus.ValueKind == JsonValueKind.Array)
            {
                foreach (var edu in edus.EnumerateArray())
                {
                    if (edu.ValueKind != JsonValueKind.Object || !edu.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object) continue;
                    switch (String(edu, "edu_type"))
                    {
                        case "m.typing":
                            if (String(content, "room_id") is { } roomId && String(content, "user_id") is { } userId
                                && content.TryGetProperty("typing", out var flag) && flag.ValueKind is JsonValueKind.True or JsonValueKind.False)
                                typing.Add(new TypingEdu(roomId, userId, flag.GetBoolean()));
                            break;
                        case "m.receipt":
                            AddReceipts(content, receipts);
                            break;
                        case ToDevice.DirectToDevice.EduType:
                            if (ReadDirectToDevice(content) is { } messages) directToDevice.Add(messages);
                            break;
                        case "m.device_list_update":
                            if (String(content, "user_id") is { } changed && String(content, "device_id") is not null && !deviceListUpdates.Contains(changed))
                                deviceListUpdates.Add(changed);
                            break;
                    }
                }
            }

            return new InboundTransaction
            {
                Pdus = pdus.EnumerateArray()
                    .Select(pdu => new TransactionPdu(pdu.ValueKind == JsonValueKind.Object ? String(pdu, "room_id") : null, Encoding.UTF8.GetBytes(pdu.GetRawText())))
                    .ToList(),
                Typing = typing,
                Receipts = receipts,
                DirectToDevice = directToDevice,
                DeviceListUpdates = deviceListUpdates,
            };
        }
    }

    /// <summary><c>{room_id: {receipt_type: {user_id: {event_ids: [...], data: {thread_id?}}}}}</c>; malformed parts are skipped.</summary>
    private static void AddReceipts(JsonElement content, Dictionary<string, List<RemoteReceipt>> receipts)
    {
        foreach (var room in content.EnumerateObject())
        {
            if (!RoomId.IsValid(room.Name) || room.Value.ValueKind != JsonValueKind.Object) continue;
            foreach (var type in room.Value.EnumerateObject())
            {
                if (type.Value.ValueKind != JsonValueKind.Object) continue;
                foreach (var user in type.Value.EnumerateObject())
                {
                    if (user.Value.ValueKind != JsonValueKind.Object
                        || !user.Value.TryGetProperty("event_ids", out var ids) || ids.ValueKind != JsonValueKind.Array) continue;
                    var eventIds = ids.EnumerateArray().Where(id => id.ValueKind == JsonValueKind.String).Select(id => id.GetString()!).ToList();
                    var threadId = user.Value.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object ? String(data, "thread_id") : null;
                    if (!receipts.TryGetValue(room.Name, out var list)) receipts[room.Name] = list = [];
                    list.Add(new RemoteReceipt(user.Name, type.Name, eventIds, threadId));
                }
            }
        }
    }

    /// <summary><c>{sender, type, message_id, messages: {user_id: {device_id or *: content}}}</c>; null when any part is malformed.</summary>
    private static DirectToDeviceEdu? ReadDirectToDevice(JsonElement content)
    {
        if (String(content, "sender") is not { } sender || String(content, "type") is not { } type || String(content, "message_id") is not { } messageId
            || !content.TryGetProperty("messages", out var byUser) || byUser.ValueKind != JsonValueKind.Object)
            return null;
        var messages = new List<ToDeviceMessageRequest>();
        foreach (var user in byUser.EnumerateObject())
        {
            if (user.Value.ValueKind != JsonValueKind.Object) return null;
            foreach (var device in user.Value.EnumerateObject())
            {
                if (device.Value.ValueKind != JsonValueKind.Object) return null;
                messages.Add(new ToDeviceMessageRequest(user.Name, device.Name == "*" ? null : device.Name, Encoding.UTF8.GetBytes(device.Value.GetRawText())));
            }
        }
        return new DirectToDeviceEdu(sender, new ToDeviceSend(ToDevice.DirectToDevice.SenderDevice, messageId, type, messages));
    }

    private static string? String(JsonElement json, string key) =>
        json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
