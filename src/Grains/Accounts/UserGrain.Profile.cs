using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using Microsoft.Extensions.Logging;
using Orleans;

namespace HomeServer.Grains.Accounts;

public sealed partial class UserGrain
{
    /// <summary>How many rooms are told about a profile change at the same time.</summary>
    private const int RoomUpdateParallelism = 8;

    /// <summary>The rooms being told about the latest profile change; each change waits for the one before.</summary>
    private Task _roomUpdates = Task.CompletedTask;

    public Task<UserProfile?> GetProfileAsync() =>
        Task.FromResult(_account is null ? null : new UserProfile(_account.DisplayName, _account.AvatarUrl));

    public async Task SetDisplayNameAsync(string? displayName)
    {
        var account = RequireActiveAccount();
        ProfileLimits.RequireDisplayName(displayName);
        await store.Accounts.SetDisplayNameAsync(Key, displayName, None);
        _account = account with { DisplayName = displayName };
        UpdateJoinedRooms(_account);
    }

    public async Task SetAvatarUrlAsync(string? avatarUrl)
    {
        var account = RequireActiveAccount();
        ProfileLimits.RequireAvatarUrl(avatarUrl);
        await store.Accounts.SetAvatarUrlAsync(Key, avatarUrl, None);
        _account = account with { AvatarUrl = avatarUrl };
        UpdateJoinedRooms(_account);
    }

    /// <summary>Rooms still being told about a profile change are told before the activation goes away.</summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _roomUpdates.WaitAsync(cancellationToken);

    /// <summary>
    /// Asks each room the user is joined to for a new member event, after this turn: a user in hundreds of rooms must
    /// not hold up their other calls (every request of the user authenticates here). Changes reach the rooms in order.
    /// </summary>
    private void UpdateJoinedRooms(Storage.Account account) =>
        _roomUpdates = UpdateJoinedRoomsAfterAsync(_roomUpdates, account.DisplayName, account.AvatarUrl);

    /// <summary>Touches no grain state. The profile is already saved, so a room that fails is logged and skipped.</summary>
    private async Task UpdateJoinedRoomsAfterAsync(Task previous, string? displayName, string? avatarUrl)
    {
        await previous;
        var userId = Key;
        var grains = GrainFactory;
        try
        {
            var rooms = await store.State.GetRoomsOfUserAsync(userId, [Membership.Join], None);
            await Parallel.ForEachAsync(
                rooms,
                new ParallelOptions { MaxDegreeOfParallelism = RoomUpdateParallelism },
                async (room, _) =>
                {
                    try
                    {
                        await grains.GetGrain<IRoomGrain>(room.RoomId).UpdateMemberProfileAsync(userId, displayName, avatarUrl);
                    }
                    catch (Exception exception)
                    {
                        LogRoomUpdateFailed(exception, userId, room.RoomId);
                    }
                });
        }
        catch (Exception exception)
        {
            LogRoomsUnknown(exception, userId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the member event of {UserId} in {RoomId} after a profile change")]
    private partial void LogRoomUpdateFailed(Exception exception, string userId, string roomId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the rooms of {UserId} to update its member events after a profile change")]
    private partial void LogRoomsUnknown(Exception exception, string userId);
}
