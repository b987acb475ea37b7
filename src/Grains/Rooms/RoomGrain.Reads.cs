using System.Collections.Immutable;
using System.Text.Json;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Rooms;

public sealed partial class RoomGrain
{
    private const string NotAMember = "You are not a member of this room and were not one before.";

    /// <summary>What a user may read: everything while joined (or when the room is world readable), else the room as it was when they left.</summary>
    /// <param name="LeftAt">The position of the user's leave or ban, or null when they read the current room.</param>
    private sealed record ReadAccess(RoomSnapshot Snapshot, bool JoinedNow, long? LeftAt);

    private async Task<ReadAccess> RequireReadAccessAsync(string userId)
    {
        var snapshot = RequireRoom();
        if (snapshot.IsJoined(userId)) return new ReadAccess(snapshot, true, null);
        if (snapshot.HistoryVisibility == HistoryVisibilities.WorldReadable) return new ReadAccess(snapshot, false, null);
        if (snapshot.MembershipOf(userId) is Membership.Leave or Membership.Ban && snapshot.Get(EventTypes.Member, userId) is not null)
        {
            var history = await GetHistoryAsync(snapshot);
            if (history.WasEverJoined(userId) && !await store.Rooms.IsForgottenAsync(userId, RoomId, CancellationToken.None))
                return new ReadAccess(snapshot, false, history.MembershipChanges(userId)[^1].Position);
        }
        throw MatrixRequestException.Forbidden(NotAMember);
    }

    private async Task<ImmutableDictionary<StateEventKey, Pdu>> StateForAsync(ReadAccess access, long? atPosition = null)
    {
        var position = Math.Min(atPosition ?? long.MaxValue, access.LeftAt ?? long.MaxValue);
        return position >= access.Snapshot.LastPosition
            ? access.Snapshot.State
            : await HistoricalState.AtAsync(store, access.Snapshot, position, CancellationToken.None);
    }

    public async Task<byte[]> GetStateAsync(string userId)
    {
        var access = await RequireReadAccessAsync(userId);
        var snapshot = await StateSnapshotAfterAsync(access.Snapshot, access.LeftAt ?? access.Snapshot.LastPosition);
        return snapshot.StateJson;
    }

    public async Task<byte[]> GetStateEventAsync(string userId, string eventType, string stateKey, bool asEvent)
    {
        var state = await StateForAsync(await RequireReadAccessAsync(userId));
        if (!state.TryGetValue(new StateEventKey(eventType, stateKey), out var pdu))
            throw MatrixRequestException.NotFound("The room has no state with this type and key.");
        return asEvent
            ? ClientEventWriter.WriteOne(pdu, new ClientEventOptions(null, Clock()))
            : JsonOutput.Write(writer => pdu.Content.WriteTo(writer));
    }

    public async Task<byte[]> GetEventAsync(Reader reader, string eventId)
    {
        var (access, history, stored) = await RequireVisibleEventAsync(reader.UserId, eventId);
        var pdu = await ErasedSenders.ServeAsync(store, access.Snapshot.Version, history, reader.UserId, ToPdu(stored), stored.RoomPosition);
        return ClientEventWriter.WriteOne(pdu, await ReadOptionsAsync(reader, [pdu]));
    }

    public async Task<byte[]> GetMembersAsync(string userId, MembersQuery query)
    {
        long? at = null;
        if (query.At is not null)
            at = RoomStreamToken.TryParse(query.At, out var atPosition) ? atPosition : throw MatrixRequestException.InvalidParam("Invalid 'at' token.");
        var access = await RequireReadAccessAsync(userId);
        var position = Math.Min(at ?? long.MaxValue, access.LeftAt ?? long.MaxValue);
        var snapshot = await StateSnapshotAfterAsync(access.Snapshot, position);
        return snapshot.MembersJson(membership => MembershipMatches(membership, query));
    }

    public Task<byte[]> GetJoinedMembersAsync(string userId)
    {
        var snapshot = RequireJoined(userId);
        return Task.FromResult(JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("joined");
            foreach (var member in snapshot.JoinedMembers)
            {
                var pdu = snapshot.Get(EventTypes.Member, member)!;
                // As Synapse: both keys are always there, null when the member event has none.
                writer.WriteStartObject(member);
                writer.WriteString("display_name", pdu.GetContentString("displayname"));
                writer.WriteString("avatar_url", pdu.GetContentString("avatar_url"));
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }));
    }

    public Task<bool> IsJoinedAsync(string userId) => Task.FromResult(RequireExisting().IsJoined(userId));

    public Task<bool> CanSendStateAsync(string userId, string eventType) =>
        Task.FromResult(RequireExisting().CanSendState(userId, eventType));

    private RoomSnapshot RequireExisting() =>
        _writer.Current is { Exists: true } snapshot ? snapshot : throw MatrixRequestException.NotFound("Room not found.");

    public async Task<IReadOnlyList<string>> GetLocalAliasesAsync(string userId)
    {
        var snapshot = RequireRoom();
        if (!snapshot.IsJoined(userId) && snapshot.HistoryVisibility != HistoryVisibilities.WorldReadable)
            throw MatrixRequestException.Forbidden("You are not a member of the room.");
        return await store.Aliases.GetAliasesOfRoomAsync(RoomId, CancellationToken.None);
    }

    public async Task<bool> IsPublishedAsync()
    {
        RequireExisting();
        var room = await store.Rooms.GetRoomAsync(RoomId, CancellationToken.None);
        return room?.Published ?? throw MatrixRequestException.NotFound("Room not found.");
    }

    public async Task SetPublishedAsync(string userId, bool isAdmin, bool published)
    {
        var snapshot = RequireExisting();
        if (!isAdmin && !snapshot.CanSendState(userId, CanonicalAliasType))
            throw MatrixRequestException.Forbidden("Only server admins and room members who may set the canonical alias can change the room's visibility.");
        await store.Rooms.SetPublishedAsync(RoomId, published, CancellationToken.None);
    }

    public Task<PublicRoomSummary?> GetPublicSummaryAsync()
    {
        if (_writer.Current is not { Exists: true } snapshot) return Task.FromResult<PublicRoomSummary?>(null);
        var create = snapshot.Get(EventTypes.Create);
        var roomType = create is not null && create.Content.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            ? type.GetString()
            : null;
        return Task.FromResult<PublicRoomSummary?>(new PublicRoomSummary(
            RoomId,
            snapshot.ContentString("m.room.name", "name"),
            snapshot.ContentString("m.room.topic", "topic"),
            snapshot.ContentString(CanonicalAliasType, "alias"),
            snapshot.ContentString("m.room.avatar", "url"),
            snapshot.JoinedMembers.Count,
            snapshot.HistoryVisibility == HistoryVisibilities.WorldReadable,
            snapshot.ContentString("m.room.guest_access", "guest_access") == "can_join",
            snapshot.ContentString(EventTypes.JoinRules, "join_rule"),
            roomType));
    }

    /// <summary>membership and not_membership together mean either condition (the API's 'or').</summary>
    private static bool MembershipMatches(string? membership, MembersQuery query) => (query.Membership, query.NotMembership) switch
    {
        (null, null) => true,
        ({ } wanted, null) => membership == wanted,
        (null, { } unwanted) => membership != unwanted,
        ({ } wanted, { } unwanted) => membership == wanted || membership != unwanted,
    };

    private static IEnumerable<Pdu> SortedState(IEnumerable<Pdu> state) =>
        state.OrderBy(p => p.Type, StringComparer.Ordinal).ThenBy(p => p.StateKey, StringComparer.Ordinal);
}
