using HomeServer.Grains.Delivery;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Outbound;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Keys;

/// <summary>
/// Wakes the /sync of those a key change concerns, the way presence does: a device-list change (already appended to the
/// stream) goes to the owner and to every user sharing a joined room with it, through each silo's room feed hub, so no
/// idle sync grain is activated; one that is not running reads the change from the store when it next starts.
/// </summary>
internal sealed class DeviceListAnnouncer(
    IHomeServerStore store, IGrainFactory grains, ActiveSilos silos, LocalServer server, SyncDeliveryOptions delivery, ILogger logger)
{
    private SyncNotifier Notifier => new(grains, silos, server, delivery, logger);

    /// <param name="alsoTell">Another user to wake, shared room or not (the signer of the user's keys).</param>
    public async Task DeviceListChangedAsync(string userId, long position, string? alsoTell = null)
    {
        var peers = new HashSet<string>(await store.Presence.GetRoomPeersAsync(userId, CancellationToken.None), StringComparer.Ordinal) { userId };
        if (alsoTell is not null) peers.Add(alsoTell);
        Notifier.Notify(peers, new SyncNotice(SyncNoticeKind.DeviceList, null, position));
    }

    /// <summary>
    /// An <c>m.device_list_update</c> EDU about one of the local user's devices to every other server with a member
    /// sharing a room with the user (docs/adr/0040-federated-keys-and-edus.md). <paramref name="previous"/> is the user's
    /// change before this one: a server that did not get that EDU (it refused the transaction) sees an unknown
    /// <c>prev_id</c> and fetches the whole list, as the spec has it. Stored in the federation outbox, so a crash or a
    /// destination's long outage loses none (docs/adr/0040). Never fails the change itself.
    /// </summary>
    public async Task SendDeviceListUpdateAsync(
        string userId, string deviceId, long streamId, long? previous, bool deleted, string? keysJson, string? displayName)
    {
        try
        {
            var servers = await OtherServersSharingARoomWithAsync(userId);
            if (servers.Count == 0) return;
            var content = KeyResponses.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("user_id"u8, userId);
                writer.WriteString("device_id"u8, deviceId);
                writer.WriteNumber("stream_id"u8, streamId);
                writer.WritePropertyName("prev_id"u8);
                writer.WriteStartArray();
                if (previous is { } prev) writer.WriteNumberValue(prev);
                writer.WriteEndArray();
                if (deleted) writer.WriteBoolean("deleted"u8, true);
                if (displayName is not null) writer.WriteString("device_display_name"u8, displayName);
                if (keysJson is not null)
                {
                    writer.WritePropertyName("keys"u8);
                    writer.WriteRawValue(keysJson);
                }
                writer.WriteEndObject();
            });
            await DurableEdus.SendToEachAsync(store, grains, servers, "m.device_list_update", content);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The device list update of {UserId} could not be handed to other servers", userId);
        }
    }

    /// <summary>The other servers with a member sharing a room with the user.</summary>
    private async Task<List<string>> OtherServersSharingARoomWithAsync(string userId) =>
        (await store.Presence.GetRoomPeersAsync(userId, CancellationToken.None))
            .Where(u => !server.IsLocal(u) && Identifiers.UserId.TryParse(u, out _))
            .Select(u => Identifiers.UserId.Parse(u).Server.Value)
            .Distinct(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// An <c>m.signing_key_update</c> EDU with the user's new master and self-signing keys (the user-signing key is the
    /// user's own business) to every other server with a member sharing a room with the user (docs/adr/0045). Kept in
    /// memory until sent, as device list updates. Never fails the upload itself.
    /// </summary>
    public async Task SendSigningKeyUpdateAsync(string userId, IReadOnlyList<NewCrossSigningKey> keys)
    {
        var shared = keys.Where(k => k.Type is "master" or "self_signing").ToList();
        if (shared.Count == 0) return;
        try
        {
            var servers = await OtherServersSharingARoomWithAsync(userId);
            if (servers.Count == 0) return;
            var content = KeyResponses.Write(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("user_id"u8, userId);
                foreach (var key in shared)
                {
                    writer.WritePropertyName(key.Type + "_key");
                    writer.WriteRawValue(key.Json);
                }
                writer.WriteEndObject();
            });
            await DurableEdus.SendToEachAsync(store, grains, servers, "m.signing_key_update", content);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The signing key update of {UserId} could not be handed to other servers", userId);
        }
    }

    /// <summary>The one-time or fallback keys of one of the user's devices changed: its sync grain re-reads the counts.</summary>
    public void OneTimeKeysChanged(string userId) =>
        Notifier.Notify(userId, new SyncNotice(SyncNoticeKind.OneTimeKeys, null, 0));
}
