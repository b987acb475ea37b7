using HomeServer.Grains.Federation;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Presence;

/// <summary>
/// Sends local users' presence changes to the other servers sharing a joined room with them, as <c>m.presence</c>
/// EDUs through each destination's sender (docs/adr/0040): one EDU per user, replacing that user's EDU still queued
/// for the destination, so a destination that is down holds at most the latest state of each user. Presence is a hint:
/// a failure is logged and the change is not sent (the next one is).
/// See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
public sealed class PresenceFederation(IHomeServerStore store, IGrainFactory grains, LocalServer server, ILogger logger)
{
    public const string EduType = "m.presence";

    /// <summary>
    /// For changes of <paramref name="userIds"/> (any server's) whose peers, together, are <paramref name="peers"/>: a
    /// batch without peers of other servers costs nothing more; otherwise each local user's own peers are read.
    /// </summary>
    public async Task SendAsync(IReadOnlyCollection<string> userIds, IReadOnlyCollection<string> peers)
    {
        var local = userIds.Where(server.IsLocal).ToList();
        if (local.Count == 0 || peers.All(server.IsLocal)) return;
        try
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var presence in await store.Presence.GetPresenceAsync(local, CancellationToken.None))
            {
                var servers = (await store.Presence.GetRoomPeersAsync(presence.UserId, CancellationToken.None))
                    .Where(peer => !server.IsLocal(peer))
                    .Select(peer => UserId.TryParse(peer, out var user) ? user.Server.ToString() : null)
                    .OfType<string>()
                    .ToHashSet(StringComparer.Ordinal);
                if (servers.Count == 0) continue;
                var edu = new OutboundEdu(EduType, Content(presence, now), ReplaceKey: EduType + " " + presence.UserId);
                foreach (var destination in servers) await grains.GetGrain<IFederationDestinationGrain>(destination).SendEduAsync(edu);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Presence changes of {Count} users could not be handed to other servers", local.Count);
        }
    }

    /// <summary><c>{push: [{user_id, presence, status_msg?, last_active_ago, currently_active}]}</c>.</summary>
    private static byte[] Content(StoredPresence presence, long now) => JsonOutput.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartArray("push");
        writer.WriteStartObject();
        writer.WriteString("user_id", presence.UserId);
        writer.WriteString("presence", presence.Presence);
        if (presence.StatusMessage is not null) writer.WriteString("status_msg", presence.StatusMessage);
        writer.WriteNumber("last_active_ago", presence.LastActiveTs > 0 ? Math.Max(0, now - presence.LastActiveTs) : 0);
        writer.WriteBoolean("currently_active", PresenceGrain.IsCurrentlyActive(presence.Presence, presence.LastActiveTs, now));
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    });
}
