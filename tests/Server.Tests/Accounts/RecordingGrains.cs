using System.Collections.Concurrent;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using Orleans;

namespace HomeServer.Server.Tests.Accounts;

/// <summary>Stands in for the room grain in tests of what the user grain sends to rooms; records each profile update.</summary>
[GrainType("room")]
public sealed class RecordingRoomGrain : RoomGrainStandIn
{
    public static readonly ConcurrentQueue<(string RoomId, string UserId, string? DisplayName, string? AvatarUrl)> ProfileUpdates = new();

    public override Task UpdateMemberProfileAsync(string userId, string? displayName, string? avatarUrl)
    {
        ProfileUpdates.Enqueue((Key, userId, displayName, avatarUrl));
        return Task.CompletedTask;
    }

    public override Task<TypingState> GetTypingAsync() => Task.FromResult(new TypingState(0, []));
}

/// <summary>Stands in for the sync grain in tests of what the user grain tells it; records each notice.</summary>
[GrainType("sync")]
public sealed class RecordingSyncGrain : SyncGrainStandIn
{
    public static readonly ConcurrentQueue<(string UserId, SyncNotice Notice)> Notices = new();

    public override Task NotifyAsync(SyncNotice notice)
    {
        Notices.Enqueue((Key, notice));
        return Task.CompletedTask;
    }
}
