using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Room upgrades (the spec's "Room Upgrades" module): a replacement room made through the room creation path with
/// the old room's transferable state, aliases moved, a tombstone in the old room and its power levels restricted.
/// </summary>
public sealed partial class RoomGrain
{
    private const string TombstoneType = "m.room.tombstone";

    /// <summary>State copied to the replacement room (the spec's recommended list).</summary>
    private static readonly string[] TransferredState =
    [
        "m.room.server_acl", "m.room.encryption", "m.room.name", "m.room.avatar", "m.room.topic", "m.room.guest_access",
        EventTypes.HistoryVisibility, EventTypes.JoinRules, CanonicalAliasType,
    ];

    public async Task<string> UpgradeAsync(string userId, string newVersion)
    {
        if (!RoomVersion.TryGet(newVersion, out _))
            throw new MatrixRequestException("M_UNSUPPORTED_ROOM_VERSION", $"Room version {newVersion} is not supported.");
        var snapshot = RequireJoined(userId);
        if (!snapshot.CanSendState(userId, TombstoneType))
            throw MatrixRequestException.Forbidden("You do not have the power to upgrade this room.");

        var powerLevels = snapshot.Get(EventTypes.PowerLevels) is { } current ? Normalise(JsonObject.Create(current.Content)!) : null;
        var (creationPowerLevels, raised) = WithUserAbleToAct(powerLevels, userId);
        var published = (await store.Rooms.GetRoomAsync(RoomId, CancellationToken.None))?.Published ?? false;
        var newRoomId = Identifiers.RoomId.Generate(ServerName.Parse(server.Name)).Value;
        var newRoom = GrainFactory.GetGrain<IRoomGrain>(newRoomId);
        await newRoom.CreateAsync(new CreateRoomRequest(userId)
        {
            RoomVersion = newVersion,
            Publish = published,
            CreationContent = ToElement(ReplacementCreateContent(snapshot)),
            InitialState = TransferredStateOf(snapshot, creationPowerLevels),
        });
        // The upgrading user was made able to set the copied state; the old room's levels now apply as they were.
        if (raised) await newRoom.SetStateAsync(new StateRequest(userId, EventTypes.PowerLevels, "", ToElement(powerLevels!)));

        await store.Aliases.MoveAliasesAsync(RoomId, newRoomId, CancellationToken.None);
        if (published) await store.Rooms.SetPublishedAsync(RoomId, false, CancellationToken.None);
        await _writer.SubmitAsync(builder => builder.Add(EventSpec.State(TombstoneType, "", userId, new JsonObject
        {
            ["body"] = "This room has been replaced",
            ["replacement_room"] = newRoomId,
        })).EventId.Value);
        // The aliases now name the new room, so the old room no longer advertises them.
        await SubmitIfAllowedAsync(userId, builder =>
            builder.View.Get(CanonicalAliasType) is { } alias && alias.Content.EnumerateObject().Any()
                ? builder.Add(EventSpec.State(CanonicalAliasType, "", userId, [])).EventId.Value
                : null);
        await RestrictOldRoomAsync(userId);
        return newRoomId;
    }

    /// <summary>m.room.create content of the replacement: the predecessor, and the room type and federation flag kept.</summary>
    private static JsonObject ReplacementCreateContent(RoomSnapshot snapshot)
    {
        var content = new JsonObject
        {
            ["predecessor"] = new JsonObject { ["room_id"] = snapshot.RoomId, ["event_id"] = snapshot.LastEventId?.Value },
        };
        var create = snapshot.Get(EventTypes.Create)!.Content;
        foreach (var key in new[] { "type", "m.federate" })
        {
            if (create.TryGetProperty(key, out var value)) content[key] = JsonNode.Parse(value.GetRawText());
        }
        return content;
    }

    private static List<InitialStateEvent> TransferredStateOf(RoomSnapshot snapshot, JsonObject? powerLevels)
    {
        var events = new List<InitialStateEvent>();
        foreach (var type in TransferredState)
        {
            if (snapshot.Get(type) is { } state && state.Content.EnumerateObject().Any())
                events.Add(new InitialStateEvent(type, "", state.Content.Clone()));
        }
        foreach (var (key, child) in snapshot.State.Where(entry => entry.Key.Type == SpaceChildType && HasVia(entry.Value.Content)))
            events.Add(new InitialStateEvent(SpaceChildType, key.StateKey, child.Content.Clone()));
        if (powerLevels is not null) events.Add(new InitialStateEvent(EventTypes.PowerLevels, "", ToElement(powerLevels)));
        return events;
    }

    /// <summary>The power levels with the upgrading user raised to the highest level any action needs, so they can send all the copied state.</summary>
    private static (JsonObject? Content, bool Raised) WithUserAbleToAct(JsonObject? powerLevels, string userId)
    {
        if (powerLevels is null) return (null, false);
        var content = (JsonObject)powerLevels.DeepClone();
        var needed = new[] { "state_default", "events_default", "ban", "kick", "redact", "invite" }
            .Select(key => Level(content[key]) ?? 0)
            .Concat((content["events"] as JsonObject ?? []).Select(e => Level(e.Value) ?? 0))
            .Append(50)
            .Max();
        var users = content["users"] as JsonObject ?? [];
        content["users"] = users;
        var userLevel = Level(users[userId]) ?? Level(content["users_default"]) ?? 0;
        if (userLevel >= needed) return (content, false);
        users[userId] = needed;
        return (content, true);
    }

    /// <summary>Integers for numeric strings: older room versions allowed them in power levels, newer ones do not.</summary>
    private static JsonObject Normalise(JsonObject powerLevels)
    {
        var copy = (JsonObject)powerLevels.DeepClone();
        foreach (var (key, value) in copy.ToList())
        {
            if (value is JsonObject map)
            {
                foreach (var (inner, level) in map.ToList())
                    if (Level(level) is { } number) map[inner] = number;
            }
            else if (Level(value) is { } number) copy[key] = number;
        }
        return copy;
    }

    private static long? Level(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<long>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text) && long.TryParse(text.Trim(), out var parsed) => parsed,
        _ => null,
    };

    /// <summary>
    /// The spec asks that the old room stop ordinary users from sending and inviting: events_default and invite are
    /// raised to 50 or users_default + 1, whichever is greater. Left as it is when the user may not change them.
    /// </summary>
    private async Task RestrictOldRoomAsync(string userId)
    {
        if (_writer.Current!.Get(EventTypes.PowerLevels) is not { } current) return;
        var content = JsonObject.Create(current.Content)!;
        var restricted = Math.Max(50, (Level(content["users_default"]) ?? 0) + 1);
        var changed = false;
        foreach (var key in new[] { "events_default", "invite" })
        {
            if ((Level(content[key]) ?? 0) >= restricted) continue;
            content[key] = restricted;
            changed = true;
        }
        if (changed) await SubmitIfAllowedAsync(userId, builder => builder.Add(EventSpec.State(EventTypes.PowerLevels, "", userId, content)).EventId.Value);
    }

    /// <summary>The old room's clean-up after an upgrade is done where the user's power allows and skipped where not.</summary>
    private async Task SubmitIfAllowedAsync(string userId, Func<RoomBatchBuilder, string?> plan)
    {
        try
        {
            await _writer.SubmitAsync(plan);
        }
        catch (MatrixRequestException e) when (e.ErrCode == "M_FORBIDDEN")
        {
            logger.LogInformation("{UserId} upgraded {RoomId} but may not change its state further: {Reason}", userId, RoomId, e.Error);
        }
    }

    private static JsonElement ToElement(JsonObject content) => JsonSerializer.SerializeToElement(content);
}
