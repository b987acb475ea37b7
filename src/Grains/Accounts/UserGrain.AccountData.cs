using System.Globalization;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Accounts;

public sealed partial class UserGrain
{
    public async Task<byte[]?> GetAccountDataAsync(string? roomId, string dataType)
    {
        if (_account is null || !AccountInput.IsIdentifier(dataType) || (roomId is not null && !RoomId.IsValid(roomId))) return null;
        var entry = await store.AccountData.GetAccountDataAsync(Key, roomId, dataType, None);
        return entry?.Content;
    }

    public async Task SetAccountDataAsync(string? roomId, string dataType, byte[] content)
    {
        RequireActiveAccount();
        if (!AccountInput.IsIdentifier(dataType))
            throw MatrixRequestException.InvalidParam("The account data type must be 1 to 255 bytes of UTF-8 without NUL characters.");
        if (roomId is not null && !RoomId.IsValid(roomId))
            throw MatrixRequestException.InvalidParam($"{roomId} is not a valid room ID.");
        RequireContentSize(content);
        var position = await store.AccountData.SetAccountDataAsync(Key, roomId, dataType, content, None);
        await NotifySyncAsync(new SyncNotice(SyncNoticeKind.AccountData, roomId, position));
    }

    public async Task<string> CreateFilterAsync(byte[] filter)
    {
        RequireActiveAccount();
        RequireContentSize(filter);
        var filterId = await store.Filters.CreateFilterAsync(Key, filter, None);
        return filterId.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<byte[]?> GetFilterAsync(string filterId)
    {
        if (_account is null || !long.TryParse(filterId, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) return null;
        return await store.Filters.GetFilterAsync(Key, id, None);
    }

    private static void RequireContentSize(byte[] json)
    {
        if (json.Length > StoreLimits.MaxContentJsonBytes)
            throw new MatrixRequestException("M_TOO_LARGE", $"The content is larger than {StoreLimits.MaxContentJsonBytes} bytes.");
    }

    /// <summary>The change is already saved: a sync grain that cannot be told now catches up from the store on the next /sync.</summary>
    private async Task NotifySyncAsync(SyncNotice notice)
    {
        try
        {
            await GrainFactory.GetGrain<ISyncGrain>(Key).NotifyAsync(notice);
        }
        catch (Exception exception)
        {
            LogSyncNotifyFailed(exception, Key, notice.Kind);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not notify the sync grain of {UserId} of a {Kind} change")]
    private partial void LogSyncNotifyFailed(Exception exception, string userId, SyncNoticeKind kind);
}
