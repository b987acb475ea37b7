using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>Events as another server builds them: hashed and signed with its key.</summary>
internal static class FederationEvents
{
    public static (EventId EventId, JsonObject Event) Sign(RoomVersion version, JsonObject template, ServerSigningKey key, string serverName)
    {
        var pdu = (JsonObject)template.DeepClone();
        if (version.EventIdInEvent) pdu["event_id"] = $"${Guid.NewGuid():N}:{serverName}";
        pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson)) };
        pdu["signatures"] = new JsonObject();
        EventSigning.Sign(version, pdu, key);
        return (EventHashing.ComputeEventId(version, pdu), pdu);
    }
}

/// <summary>What a local member's /sync shows of a room.</summary>
internal static class FederationTimelines
{
    /// <summary>The room's timeline events in the member's incremental /sync from <paramref name="since"/> (none if the room is not in it).</summary>
    public static async Task<List<JsonElement>> TimelineSinceAsync(SyncUser member, string since, string roomId)
    {
        var sync = await member.SyncSinceAsync(since, "timeout=0");
        return sync.TryGetProperty("rooms", out var rooms) && rooms.TryGetProperty("join", out var join) && join.TryGetProperty(roomId, out var room)
            ? room.GetProperty("timeline").GetProperty("events").EnumerateArray().ToList()
            : [];
    }
}

/// <summary>A user of one server joins a room of another as that server does it: make_join, sign, send_join (v2).</summary>
internal static class RemoteJoin
{
    /// <returns>The room's version and the id of the join.</returns>
    public static async Task<(RoomVersion Version, EventId JoinId)> JoinAsync(
        RunningServer from, string fromName, string toName, string roomId, string userId)
    {
        var federation = from.App.Services.GetRequiredService<FederationClient>();
        var made = await federation.SendAsync(toName, HttpMethod.Get,
            $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(userId)}?"
            + string.Join("&", RoomVersion.Supported.Select(v => $"ver={v.Id}")), null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        var template = JsonNode.Parse(made.Body)!.AsObject();
        Assert.True(RoomVersion.TryGet(template["room_version"]!.GetValue<string>(), out var version));
        var key = from.App.Services.GetRequiredService<LocalSigningKey>().Current;
        var (joinId, join) = FederationEvents.Sign(version, template["event"]!.AsObject(), key, fromName);
        var joined = await federation.SendAsync(toName, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(joinId.Value)}", join, CancellationToken.None);
        Assert.True(joined.StatusCode == HttpStatusCode.OK, System.Text.Encoding.UTF8.GetString(joined.Body));
        return (version, joinId);
    }
}
