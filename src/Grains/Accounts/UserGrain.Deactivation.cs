using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// Account deactivation, as Synapse does it: the account is marked deactivated first (password, profile, devices and
/// access tokens go in the same transaction), then the user leaves every room they are joined to, invited to or
/// knocking on. The mark comes first so that an interrupted deactivation is finished rather than undone: repeating the
/// call, or the next activation of a deactivated user's grain, leaves the rooms still left over.
/// </summary>
public sealed partial class UserGrain
{
    private static readonly string[] MembershipsToLeave = [Membership.Join, Membership.Invite, Membership.Knock];

    public async Task DeactivateAsync(bool erase)
    {
        if (_account is null) throw MatrixRequestException.Forbidden("The account does not exist.");
        if (!await store.Accounts.DeactivateAsync(Key, erase, None)) throw MatrixRequestException.Forbidden("The account does not exist.");
        // To-device: the deleted devices' queued messages go with them.
        await store.ToDevice.DeleteUserInboxesAsync(Key, exceptDeviceId: null, None);
        _account = _account with
        {
            Deactivated = true,
            PasswordHash = null,
            DisplayName = null,
            AvatarUrl = null,
            Erased = _account.Erased || erase,
        };
        ForgetSessions(deviceId: null);
        await DeleteKeysOfRemovedDevicesAsync();
        // A profile change still on its way to the rooms must not land after the leaves.
        await _roomUpdates;
        if (await LeaveRoomsAsync() is { } failure) throw failure;
    }

    public Task<bool> IsDeactivatedAsync() => Task.FromResult(_account is { Deactivated: true });

    /// <summary>Finishes a deactivation that was interrupted before every room was left, after this activation's turn.</summary>
    private void ResumeDeactivation() =>
        _roomUpdates = ResumeDeactivationAfterAsync(_roomUpdates);

    private async Task ResumeDeactivationAfterAsync(Task previous)
    {
        await previous;
        if (await LeaveRoomsAsync() is { } failure) LogDeactivationUnfinished(failure, Key);
    }

    /// <summary>Leaves every room the user is still in; the first failure is returned after trying every room.</summary>
    private async Task<Exception?> LeaveRoomsAsync()
    {
        var userId = Key;
        var grains = GrainFactory;
        Exception? failure = null;
        try
        {
            var rooms = await store.State.GetRoomsOfUserAsync(userId, MembershipsToLeave, None);
            await Parallel.ForEachAsync(
                rooms,
                new ParallelOptions { MaxDegreeOfParallelism = RoomUpdateParallelism },
                async (room, _) =>
                {
                    try
                    {
                        await grains.GetGrain<IRoomGrain>(room.RoomId).LeaveAsync(userId, reason: null);
                    }
                    catch (Exception exception)
                    {
                        LogRoomLeaveFailed(exception, userId, room.RoomId);
                        Interlocked.CompareExchange(ref failure, exception, null);
                    }
                });
        }
        catch (Exception exception)
        {
            failure ??= exception;
        }
        return failure;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deactivated user {UserId} could not leave {RoomId}; the next attempt retries")]
    private partial void LogRoomLeaveFailed(Exception exception, string userId, string roomId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deactivated user {UserId} is still in some rooms; the next activation retries")]
    private partial void LogDeactivationUnfinished(Exception exception, string userId);
}
