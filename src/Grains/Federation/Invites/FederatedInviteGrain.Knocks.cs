using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Federation.Invites;

/// <summary>
/// A local user knocks on a room of another server: <c>make_knock</c> to each server in turn until one gives a template,
/// which is filled in, hashed, signed and sent with <c>send_knock</c>; the knock is kept beside the room's invites with
/// the <c>knock_room_state</c> of the answer, so /sync shows it under <c>rooms.knock</c>. An invite from the room then
/// replaces it; rescinding it is a leave through the server it went through (<see cref="RejectAsync"/>).
/// See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
public sealed partial class FederatedInviteGrain : IFederatedKnockGrain
{
    /// <summary>Where this server keeps, in the stored knock's <c>unsigned</c>, the server the knock went through.</summary>
    private const string KnockedThroughKey = "knocked_through";

    private static readonly string KnockVersionsQuery =
        string.Join("&", RoomVersion.Supported.Where(v => v.KnockJoinRule).Select(v => "ver=" + Uri.EscapeDataString(v.Id)));

    public async Task KnockAsync(string userId, string? reason, IReadOnlyList<string> servers)
    {
        if (!local.IsLocal(userId)) throw MatrixRequestException.Forbidden($"{userId} is not a user of this server.");
        var failures = new List<string>();
        foreach (var destination in servers.Where(name => name != local.Name).Distinct(StringComparer.Ordinal))
        {
            try
            {
                await KnockThroughAsync(destination, userId, reason);
                return;
            }
            catch (KnockRefusal refusal) when (refusal.Status is HttpStatusCode.Forbidden || refusal.ErrCode == "M_INCOMPATIBLE_ROOM_VERSION")
            {
                // The room's own answer: the knock is not allowed, or this server cannot take part in the room.
                throw new MatrixRequestException(refusal.ErrCode, $"{destination} refused the knock: {refusal.Message}");
            }
            catch (Exception e) when (e is KnockRefusal or MatrixRequestException or FederationRequestException)
            {
                failures.Add($"{destination}: {e.Message}");
            }
        }
        if (failures.Count == 0) throw MatrixRequestException.NotFound("No server to knock through: give one in via or server_name.");
        throw RemoteServerFailure.Of($"Could not knock on {Key} through any of its servers: {string.Join("; ", failures)}");
    }

    private async Task KnockThroughAsync(string destination, string userId, string? reason)
    {
        var made = await KnockRequestAsync(destination, HttpMethod.Get,
            $"/_matrix/federation/v1/make_knock/{Uri.EscapeDataString(Key)}/{Uri.EscapeDataString(userId)}?{KnockVersionsQuery}", null);
        var versionId = made["room_version"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (versionId is null || !RoomVersion.TryGet(versionId, out var version) || !version.KnockJoinRule)
            throw MatrixRequestException.InvalidParam($"make_knock offered the room version {versionId ?? "(none)"}, which has no knocks here.");
        if (made["event"] is not JsonObject template
            || Text(template, "room_id") != Key || Text(template, "type") != EventTypes.Member
            || Text(template, "sender") != userId || Text(template, "state_key") != userId
            || template["content"] is not JsonObject templateContent || Text(templateContent, "membership") != Membership.Knock)
            throw MatrixRequestException.InvalidParam("make_knock gave a template that is not this user's knock on this room.");

        var knock = (JsonObject)template.DeepClone();
        foreach (var key in (string[])["signatures", "hashes", "unsigned", "event_id"]) knock.Remove(key);
        var content = new JsonObject { ["membership"] = Membership.Knock };
        if (reason is not null) content["reason"] = reason;
        knock["content"] = content;
        knock["origin"] = local.Name;
        knock["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        EventId knockId;
        try
        {
            knock["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(knock, version.StrictCanonicalJson)) };
            knock["signatures"] = new JsonObject();
            EventSigning.Sign(version, knock, signingKey.Current);
            PduFormat.Check(version, knock);
            knockId = EventHashing.ComputeEventId(version, knock);
        }
        catch (CanonicalJsonException e)
        {
            throw MatrixRequestException.InvalidParam($"make_knock gave a template that cannot be signed: {e.Message}");
        }

        var sent = await KnockRequestAsync(destination, HttpMethod.Put,
            $"/_matrix/federation/v1/send_knock/{Uri.EscapeDataString(Key)}/{Uri.EscapeDataString(knockId.Value)}", knock);
        if (sent["knock_room_state"] is not JsonArray roomState)
            throw MatrixRequestException.InvalidParam("send_knock answered without knock_room_state.");

        var kept = (JsonObject)knock.DeepClone();
        kept["unsigned"] = new JsonObject { ["knock_room_state"] = KnockStrippedState(roomState), [KnockedThroughKey] = destination };
        var position = await store.RemoteInvites.SaveInviteAsync(
            new RemoteInvite(userId, Key, knockId.Value, version.Id, Membership.Knock, JsonSerializer.SerializeToUtf8Bytes(kept), null, 0),
            CancellationToken.None);
        await NotifySyncAsync(userId, position);
    }

    /// <summary>The stripped form of each well-formed entry; others are left out, as the spec says of improper entries.</summary>
    private static JsonArray KnockStrippedState(JsonArray entries)
    {
        var stripped = new JsonArray();
        foreach (var entry in entries)
        {
            if (entry is not JsonObject e || Text(e, "type") is not { } type || Text(e, "state_key") is not { } stateKey
                || Text(e, "sender") is not { } sender || e["content"] is not JsonObject content)
                continue;
            stripped.Add(new JsonObject { ["content"] = content.DeepClone(), ["sender"] = sender, ["state_key"] = stateKey, ["type"] = type });
        }
        return stripped;
    }

    /// <summary>The server a stored knock went through, where it is rescinded.</summary>
    private string KnockedThrough(RemoteInvite knock) =>
        JsonNode.Parse(knock.InviteEvent)?["unsigned"]?[KnockedThroughKey] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : RoomId.TryParse(Key, out var roomId) ? roomId.Server.ToString() : throw MatrixRequestException.Forbidden("You are not in this room.");

    private async Task<JsonObject> KnockRequestAsync(string destination, HttpMethod method, string path, JsonNode? content)
    {
        var response = await client.SendAsync(destination, method, path, content, CancellationToken.None);
        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(response.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (response.IsSuccess) return body ?? throw MatrixRequestException.InvalidParam("The answer is not a JSON object.");
        var errcode = body is not null ? Text(body, "errcode") : null;
        var error = body is not null ? Text(body, "error") : null;
        throw new KnockRefusal(response.StatusCode, errcode ?? "M_UNKNOWN", $"{(int)response.StatusCode} {errcode}: {error}");
    }

    private sealed class KnockRefusal(HttpStatusCode status, string errcode, string message) : Exception(message)
    {
        public HttpStatusCode Status { get; } = status;

        public string ErrCode { get; } = errcode;
    }
}
