using HomeServer.Grains.Federation;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Typing notifications and read receipts of local members go to the other servers with a member joined in the room,
/// as <c>m.typing</c> and <c>m.receipt</c> EDUs through each destination's sender (docs/adr/0040-federated-keys-and-edus.md).
/// They are kept in memory until sent: a crash may lose them, which for such moment-to-moment hints is acceptable.
/// </summary>
public sealed partial class RoomGrain
{
    private void SendTypingToOtherServers(RoomSnapshot snapshot, string userId, bool typing)
    {
        if (!server.IsLocal(userId)) return;
        SendEduToOtherServers(snapshot, "m.typing", JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("room_id", RoomId);
            writer.WriteString("user_id", userId);
            writer.WriteBoolean("typing", typing);
            writer.WriteEndObject();
        }));
    }

    /// <summary>A public read receipt: <c>{room_id: {m.read: {user_id: {event_ids, data: {ts, thread_id?}}}}}</c>.</summary>
    private void SendReceiptToOtherServers(RoomSnapshot snapshot, string userId, string eventId, long ts, string? threadId)
    {
        if (!server.IsLocal(userId)) return;
        SendEduToOtherServers(snapshot, "m.receipt", JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject(RoomId);
            writer.WriteStartObject(ReceiptTypes.Read);
            writer.WriteStartObject(userId);
            writer.WriteStartArray("event_ids");
            writer.WriteStringValue(eventId);
            writer.WriteEndArray();
            writer.WriteStartObject("data");
            writer.WriteNumber("ts", ts);
            if (threadId is not null) writer.WriteString("thread_id", threadId);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }));
    }

    private void SendEduToOtherServers(RoomSnapshot snapshot, string eduType, byte[] content)
    {
        var servers = OtherServersJoined(snapshot);
        if (servers.Count == 0) return;
        var edu = new OutboundEdu(eduType, content);
        foreach (var destination in servers)
        {
            try
            {
                _ = _grainsForHandOver.GetGrain<IFederationDestinationGrain>(destination).SendEduAsync(edu);
            }
            catch (Exception e)
            {
                logger.LogInformation(e, "Handing an {EduType} EDU of {RoomId} to the sender of {Destination} failed", eduType, RoomId, destination);
            }
        }
    }
}
