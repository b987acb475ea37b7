using System.Text.Json;
using HomeServer.Grains.Presence;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Federation.Transactions;

/// <summary>
/// The <c>m.presence</c> EDUs of a transaction (<c>{push: [{user_id, presence, status_msg?, last_active_ago,
/// currently_active?}]}</c>): each well-formed entry goes to the user's presence grain, which keeps it only for a user
/// of the origin who shares a room with a local user. Malformed entries are skipped, as EDUs are hints.
/// See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
public static class InboundPresenceEdus
{
    public const string EduType = "m.presence";

    /// <summary>The latest entry per user of the transaction's presence EDUs.</summary>
    public static IReadOnlyList<PresenceEntry> Parse(byte[] body, long nowMs)
    {
        var latest = new Dictionary<string, PresenceEntry>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("edus", out var edus) || edus.ValueKind != JsonValueKind.Array)
                return [];
            foreach (var edu in edus.EnumerateArray())
            {
                if (edu.ValueKind != JsonValueKind.Object || String(edu, "edu_type") != EduType
                    || !edu.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object
                    || !content.TryGetProperty("push", out var push) || push.ValueKind != JsonValueKind.Array)
                    continue;
                foreach (var entry in push.EnumerateArray())
                {
                    if (entry.ValueKind != JsonValueKind.Object || String(entry, "user_id") is not { } userId
                        || String(entry, "presence") is not { } presence || !PresenceStates.IsValid(presence)
                        || !entry.TryGetProperty("last_active_ago", out var ago) || !ago.TryGetInt64(out var agoMs) || agoMs < 0)
                        continue;
                    var statusMessage = String(entry, "status_msg");
                    latest[userId] = new PresenceEntry(userId, presence, statusMessage, nowMs - agoMs);
                }
            }
        }
        catch (JsonException)
        {
            return []; // The transaction itself was parsed before; nothing here to take.
        }
        return latest.Values.ToList();
    }

    public static async Task ReceiveAsync(IGrainFactory grains, string origin, byte[] body, ILogger logger)
    {
        foreach (var entry in Parse(body, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))
        {
            try
            {
                await grains.GetGrain<IPresenceGrain>(entry.UserId).ReceiveFromServerAsync(origin, entry.Presence, entry.StatusMessage, entry.LastActiveTs);
            }
            catch (MatrixRequestException e)
            {
                logger.LogDebug("A presence EDU of {Origin} was dropped: {Error}", origin, e.Message);
            }
        }
    }

    private static string? String(JsonElement json, string key) =>
        json.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}

/// <summary>One user's presence from an <c>m.presence</c> EDU, <c>last_active_ago</c> turned into a time.</summary>
public sealed record PresenceEntry(string UserId, string Presence, string? StatusMessage, long LastActiveTs);
