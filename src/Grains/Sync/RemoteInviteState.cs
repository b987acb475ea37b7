using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;

namespace HomeServer.Grains.Sync;

/// <summary>
/// An invite to a room of another server as /sync shows it: stored events made of what the inviting server sent
/// (docs/adr/0038). The response writer keeps only what a stripped or timeline event needs from them.
/// </summary>
internal static class RemoteInviteState
{
    /// <summary>The stripped state sent with the invite (its <c>unsigned.invite_room_state</c>; a knock's <c>knock_room_state</c>), then the invite itself.</summary>
    public static IEnumerable<StoredEvent> StrippedState(RemoteInvite invite)
    {
        var pdu = JsonNode.Parse(invite.InviteEvent)!.AsObject();
        // A knock (docs/adr/0045) keeps the state the room's server answered in knock_room_state.
        if ((pdu["unsigned"]?["invite_room_state"] ?? pdu["unsigned"]?["knock_room_state"]) is JsonArray state)
        {
            foreach (var entry in state.OfType<JsonObject>())
            {
                if (entry["type"]?.GetValueKind() != JsonValueKind.String || entry["state_key"]?.GetValueKind() != JsonValueKind.String) continue;
                // The invite is given below as this server stored it; a copy in the stripped state would show twice.
                if (entry["type"]!.GetValue<string>() == EventTypes.Member && entry["state_key"]!.GetValue<string>() == invite.UserId) continue;
                yield return Stored(invite, "", entry);
            }
        }
        yield return Stored(invite, invite.EventId, pdu);
    }

    /// <summary>The rejection as a timeline event of the left room.</summary>
    public static StoredEvent LeaveEvent(RemoteInvite invite, byte[] leave)
    {
        var pdu = JsonNode.Parse(leave)!.AsObject();
        var eventId = RoomVersion.TryGet(invite.RoomVersion, out var version) ? EventHashing.ComputeEventId(version, pdu).Value : "";
        return Stored(invite, eventId, pdu);
    }

    private static StoredEvent Stored(RemoteInvite invite, string eventId, JsonObject json) =>
        new(invite.RoomId, 0, invite.StreamPosition, eventId,
            json["type"]?.GetValue<string>() ?? "", json["state_key"]?.GetValue<string>(), json["sender"]?.GetValue<string>() ?? "",
            json["origin_server_ts"] is JsonValue ts && ts.TryGetValue<long>(out var sent) ? sent : 0,
            json["content"]?["membership"]?.GetValue<string>(), Redacted: false, JsonSerializer.SerializeToUtf8Bytes(json));
}
