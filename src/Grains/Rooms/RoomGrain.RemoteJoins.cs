using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// A local user joins a room of another server: the room grain asks a resident server (<see cref="OutboundJoin"/>)
/// and, once the answer is checked, starts the room from the state it gives, the join as newest event. From then on
/// the room is kept here as any room. See docs/adr/0037-outbound-federated-joins.md.
/// </summary>
public sealed partial class RoomGrain : IRoomRemoteJoins
{
    // One remote join at a time: a second local user waits and then joins the copy the first one made, locally.
    private readonly SemaphoreSlim _remoteJoinGate = new(1, 1);

    // Set while a remote join is under way: the resident server may send the room's next events before the copy is
    // stored, and they must wait for it rather than be refused as events of an unknown room.
    private Task? _remoteJoinUnderWay;

    /// <summary>Done when no remote join of this room is under way (at once, nearly always).</summary>
    private Task RemoteJoinFinished() => _remoteJoinUnderWay is { IsCompleted: false } pending ? pending : Task.CompletedTask;

    public async Task JoinThroughServersAsync(JoinRequest request, IReadOnlyList<string> servers)
    {
        if (_writer.Current is { Exists: true } known && !NeedsResidents(known))
        {
            await JoinWithContentAsync(request);
            return;
        }
        if (!server.IsLocal(request.UserId)) throw MatrixRequestException.Forbidden($"{request.UserId} is not a user of this server.");

        var joinedRemotely = await WhileJoiningRemotelyAsync(async () =>
        {
            // Looked at again inside the gate: another local user's join may have gone through meanwhile.
            switch (_writer.Current)
            {
                case { Exists: true } current when !NeedsResidents(current):
                    return false;
                case { Exists: true } current:
                    await RejoinThroughResidentsAsync(request, current, servers);
                    return true;
                default:
                    await JoinAndCopyAsync(request, servers);
                    return true;
            }
        });
        if (joinedRemotely) await MarkReadUpToJoinAsync(request.UserId);
        else await JoinWithContentAsync(request);
    }

    /// <summary>True for a room with members of other servers but none of this one joined: see <see cref="RejoinThroughResidentsAsync"/>.</summary>
    private bool NeedsResidents(RoomSnapshot snapshot) =>
        !snapshot.JoinedMembers.Any(server.IsLocal) && snapshot.JoinedMembers.Any(member => !server.IsLocal(member));

    private async Task JoinAndCopyAsync(JoinRequest request, IReadOnlyList<string> servers)
    {
        var candidates = servers.Where(name => name != server.Name).Distinct(StringComparer.Ordinal).ToList();
        if (candidates.Count == 0) throw MatrixRequestException.NotFound("Unknown room.");
        if (await IsGuestAsync(request.UserId)) throw new MatrixRequestException("M_GUEST_ACCESS_FORBIDDEN", "Guests cannot join rooms of other servers.");

        var client = ServiceProvider.GetRequiredService<FederationClient>();
        var copy = await new OutboundJoin(client, signingKey.Current, Clock).JoinAsync(
            RoomId, request.UserId, await JoinContentAsync(request), candidates, VerifySignaturesAsync);
        await StartFromCopyAsync(copy);
    }

    private async Task<JsonObject> JoinContentAsync(JoinRequest request)
    {
        var content = request.Content.ValueKind == JsonValueKind.Undefined ? new JsonObject() : ContentObject(request.Content);
        content["membership"] = Membership.Join;
        await AddProfileAsync(request.UserId, content);
        return content;
    }

    /// <summary>
    /// With no local member joined this server gets none of the room's events (the residents closed its window), so a
    /// join built here could fork the room: it goes through a resident's <c>make_join</c>/<c>send_join</c> and is
    /// appended only if it extends this server's newest event there as here.
    /// </summary>
    private async Task RejoinThroughResidentsAsync(JoinRequest request, RoomSnapshot existing, IReadOnlyList<string> servers)
    {
        if (await IsGuestAsync(request.UserId)) throw new MatrixRequestException("M_GUEST_ACCESS_FORBIDDEN", "Guests cannot join rooms of other servers.");
        var residents = (await GetJoinedServersAsync()).Where(name => name != server.Name);
        var candidates = servers.Concat(residents).Where(name => name != server.Name).Distinct(StringComparer.Ordinal).ToList();
        var client = ServiceProvider.GetRequiredService<FederationClient>();
        var join = await new OutboundJoin(client, signingKey.Current, Clock).RejoinAsync(
            RoomId, request.UserId, await JoinContentAsync(request), candidates, existing.Version, existing.LastEventId!.Value, existing.Depth, VerifySignaturesAsync);
        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.LastEventId == join.EventId) return join.EventId.Value;
            builder.AddReceived(join);
            return join.EventId.Value;
        });
    }

    /// <summary>Runs a join through another server with the gate held and the room's inbound events held back until it ends.</summary>
    private async Task<T> WhileJoiningRemotelyAsync<T>(Func<Task<T>> join)
    {
        await _remoteJoinGate.WaitAsync();
        var underWay = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _remoteJoinUnderWay = underWay.Task;
        try
        {
            return await join();
        }
        finally
        {
            underWay.SetResult();
            _remoteJoinGate.Release();
        }
    }

    public Task<IReadOnlyList<string>> GetJoinedServersAsync()
    {
        if (_writer.Current is not { Exists: true } snapshot) return Task.FromResult<IReadOnlyList<string>>([]);
        IReadOnlyList<string> servers = snapshot.JoinedMembers
            .Select(member => UserId.TryParse(member, out var user) ? user.Server.ToString() : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .OrderBy(name => name == server.Name ? 0 : 1)
            .ThenBy(name => name, StringComparer.Ordinal)
            .ToList();
        return Task.FromResult(servers);
    }

    /// <summary>
    /// Stores the room as the checked answer describes it, in one batch: the auth chain and state events, then the join,
    /// whose state (the answer's state and the join) becomes the current state.
    /// </summary>
    private async Task StartFromCopyAsync(JoinedRoomCopy copy)
    {
        if (copy.History.Count + 1 > StoreLimits.MaxEventsPerBatch)
            throw MatrixRequestException.NotFound(
                $"The room's state and auth chain hold {copy.History.Count} events; this server keeps copies of rooms of at most {StoreLimits.MaxEventsPerBatch - 1}.");
        var creator = copy.State[new StateEventKey(EventTypes.Create, "")].Sender.Value;
        if (!await store.Rooms.CreateRoomAsync(new NewRoom(RoomId, copy.Version.Id, creator, Clock()), CancellationToken.None))
        {
            // A record without events stays behind when an earlier attempt failed after creating it; it is reused.
            var existing = await store.Rooms.GetRoomAsync(RoomId, CancellationToken.None);
            if (existing is null || existing.LastPosition != 0 || existing.RoomVersion != copy.Version.Id)
                throw new MatrixRequestException("M_ROOM_IN_USE", "The room exists here already.");
        }
        _writer.StartEmpty(RoomSnapshot.Empty(RoomId, copy.Version));
        await _writer.SubmitAsync(builder =>
        {
            builder.AddRoomCopy(copy.History, copy.State, copy.Join);
            return copy.Join.EventId.Value;
        });
        logger.LogInformation("Joined {RoomId} over federation with {Events} events of state and auth chain", RoomId, copy.History.Count);
    }
}
