using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Accounts;

public sealed partial class UserGrain
{
    /// <summary>How many rooms are told about a profile change at the same time.</summary>
    private const int RoomUpdateParallelism = 8;

    public Task<UserProfile?> GetProfileAsync() =>
        Task.FromResult(_account is null ? null : new UserProfile(_account.DisplayName, _account.AvatarUrl));

    public async Task SetDisplayNameAsync(string? displayName)
    {
        var account = RequireActiveAccount();
        ProfileLimits.RequireDisplayName(displayName);
        await store.Accounts.SetDisplayNameAsync(Key, displayName, None);
        _account = account with { DisplayName = displayName };
        await UpdateJoinedRoomsAsync(_account);
    }

    public async Task SetAvatarUrlAsync(string? avatarUrl)
    {
        var account = RequireActiveAccount();
        ProfileLimits.RequireAvatarUrl(avatarUrl);
        await store.Accounts.SetAvatarUrlAsync(Key, avatarUrl, None);
        _account = account with { AvatarUrl = avatarUrl };
        await UpdateJoinedRoomsAsync(_account);
    }

    /// <summary>
    /// Asks each room the user is joined to for a new member event. The profile itself is already saved, so a room
    /// that fails is logged and skipped rather than failing the request.
    /// </summary>
    private async Task UpdateJoinedRoomsAsync(Storage.Account account)
    {
        var rooms = await store.State.GetRoomsOfUserAsync(Key, [Membership.Join], None);
        var grains = GrainFactory;
        await Parallel.ForEachAsync(
            rooms,
            new ParallelOptions { MaxDegreeOfParallelism = RoomUpdateParallelism },
            async (room, _) =>
            {
                try
                {
                    await grains.GetGrain<IRoomGrain>(room.RoomId).UpdateMemberProfileAsync(Key, account.DisplayName, account.AvatarUrl);
                }
                catch (Exception exception)
                {
                    LogRoomUpdateFailed(exception, Key, room.RoomId);
                }
            });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not update the member event of {UserId} in {RoomId} after a profile change")]
    private partial void LogRoomUpdateFailed(Exception exception, string userId, string roomId);
}
