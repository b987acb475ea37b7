using System.Text.Json.Nodes;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// Writes room events straight through the store and then notifies the sync grains the way rooms do (RoomEvent to
/// joined members, Membership to the target of a member event), so sync is tested on exactly the data it reads.
/// Events carry federation fields (auth_events, hashes, …) so tests see that sync strips them.
/// </summary>
public sealed class StoreRooms(RunningServer server)
{
    private IHomeServerStore Store => server.App.Services.GetRequiredService<IHomeServerStore>();
    private IGrainFactory Grains => server.App.Services.GetRequiredService<IGrainFactory>();

    public async Task<string> CreateRoomAsync(string creator, string? name = null)
    {
        var roomId = $"!room{Guid.NewGuid():N}:localhost";
        Assert.True(await Store.Rooms.CreateRoomAsync(new NewRoom(roomId, "11", creator, Now()), default));
        await SendStateAsync(roomId, creator, "m.room.create", "", new JsonObject { ["room_version"] = "11" });
        await SetMembershipAsync(roomId, creator, creator, "join");
        await SendStateAsync(roomId, creator, "m.room.join_rules", "", new JsonObject { ["join_rule"] = "invite" });
        if (name is not null) await SendStateAsync(roomId, creator, "m.room.name", "", new JsonObject { ["name"] = name });
        return roomId;
    }

    public Task<StoredEvent> SetMembershipAsync(string roomId, string sender, string target, string membership, string? displayName = null)
    {
        var content = new JsonObject { ["membership"] = membership };
        if (displayName is not null) content["displayname"] = displayName;
        return SendStateAsync(roomId, sender, "m.room.member", target, content);
    }

    public Task<StoredEvent> SendStateAsync(string roomId, string sender, string type, string stateKey, JsonObject content) =>
        AppendAsync(roomId, sender, type, stateKey, content, transaction: null);

    public Task<StoredEvent> SendMessageAsync(string roomId, string sender, string body, ClientTransaction? transaction = null) =>
        AppendAsync(roomId, sender, "m.room.message", null, new JsonObject { ["msgtype"] = "m.text", ["body"] = body }, transaction);

    /// <summary>
    /// A message left as by a room activation that died right after committing it: durable, but no sync grain was told.
    /// </summary>
    public Task<StoredEvent> SendMessageUnannouncedAsync(string roomId, string sender, string body) =>
        AppendAsync(roomId, sender, "m.room.message", null, new JsonObject { ["msgtype"] = "m.text", ["body"] = body }, transaction: null, announce: false);

    public async Task<List<StoredEvent>> SendMessagesAsync(string roomId, string sender, int count, string prefix = "message")
    {
        var sent = new List<StoredEvent>();
        for (var i = 1; i <= count; i++) sent.Add(await SendMessageAsync(roomId, sender, $"{prefix} {i}"));
        return sent;
    }

    public async Task SetReceiptAsync(string roomId, string userId, string eventId, string type = "m.read")
    {
        var ts = Now();
        var position = await Store.Receipts.SetReceiptAsync(
            new NewReceipt(roomId, type, userId, eventId, ts, System.Text.Encoding.UTF8.GetBytes($"{{\"ts\":{ts}}}")), default);
        foreach (var member in await Store.State.GetMembersAsync(roomId, "join", default))
            await Grains.GetGrain<ISyncGrain>(member.UserId).NotifyAsync(new SyncNotice(SyncNoticeKind.Receipt, roomId, position));
    }

    private async Task<StoredEvent> AppendAsync(
        string roomId, string sender, string type, string? stateKey, JsonObject content, ClientTransaction? transaction, bool announce = true)
    {
        var room = await Store.Rooms.GetRoomAsync(roomId, default) ?? throw new InvalidOperationException($"no room {roomId}");
        // A well-formed event id (as a room grain reading this room back expects), unique but not a real hash.
        var eventId = HomeServer.Grains.Identifiers.EventId.FromReferenceHash(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).Value;
        var ts = Now();
        var json = new JsonObject
        {
            ["auth_events"] = new JsonArray(),
            ["content"] = content,
            ["depth"] = room.LastPosition + 1,
            ["hashes"] = new JsonObject { ["sha256"] = "abc" },
            ["origin_server_ts"] = ts,
            ["prev_events"] = new JsonArray(),
            ["room_id"] = roomId,
            ["sender"] = sender,
            ["signatures"] = new JsonObject(),
            ["type"] = type,
        };
        if (stateKey is not null) json["state_key"] = stateKey;
        // Rooms keep the sending device's transaction in a private unsigned extra, as the room grain does.
        if (transaction is not null)
            json["unsigned"] = new JsonObject { ["hs.transaction"] = new JsonObject { ["device_id"] = transaction.DeviceId, ["txn_id"] = transaction.TransactionId } };
        var membership = type == "m.room.member" ? (string)content["membership"]! : null;
        var newEvent = new NewEvent(eventId, type, stateKey, sender, ts, System.Text.Encoding.UTF8.GetBytes(json.ToJsonString()))
        {
            Membership = membership,
            Transaction = transaction,
        };
        var batch = new EventBatch(roomId, room.LastPosition, [newEvent])
        {
            StateChanges = stateKey is null ? [] : [new StateChange(type, stateKey, eventId)],
        };
        var appended = (await Store.Events.AppendAsync(batch, default))[0];
        if (!announce) return (await Store.Events.GetEventAsync(eventId, default))!;
        foreach (var member in await Store.State.GetMembersAsync(roomId, "join", default))
            await Grains.GetGrain<ISyncGrain>(member.UserId).NotifyAsync(new SyncNotice(SyncNoticeKind.RoomEvent, roomId, appended.GlobalPosition));
        if (membership is not null)
            await Grains.GetGrain<ISyncGrain>(stateKey!).NotifyAsync(new SyncNotice(SyncNoticeKind.Membership, roomId, appended.GlobalPosition));
        return (await Store.Events.GetEventAsync(eventId, default))!;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
