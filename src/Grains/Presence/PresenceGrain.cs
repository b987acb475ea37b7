using HomeServer.Storage;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Grains.Presence;

/// <summary>
/// One user's presence. Every change worth telling others is persisted first (taking the next position of the presence
/// stream) and then notified to the sync grains of the user and of every user sharing a joined room, whose /sync then
/// reads the change from the store; the silo's <see cref="PresenceWrites"/> does both for the changes that arrive together. Mere activity is kept in memory and persisted at most once a minute, as Synapse
/// only notifies a change of <c>last_active_ts</c> beyond its one-minute granularity.
/// </summary>
[GrainType("presence")]
public sealed class PresenceGrain(
    IHomeServerStore store, IOptions<PresenceOptions> options, PresenceWrites writes, LocalServer local)
    : HomeServerGrain, IPresenceGrain
{
    /// <summary>Synapse's LAST_ACTIVE_GRANULARITY: a user active within it is <c>currently_active</c>.</summary>
    internal static readonly TimeSpan ActiveGranularity = TimeSpan.FromMinutes(1);

    private string _presence = PresenceStates.Offline;
    private string? _statusMessage;
    private long _lastActiveTs;
    private long _persistedLastActiveTs;
    private IGrainTimer? _idleCheck;

    protected override async Task ActivateAsync(CancellationToken cancellationToken)
    {
        if (await store.Presence.GetPresenceAsync(Key, cancellationToken) is not { } stored) return;
        _presence = stored.Presence;
        _statusMessage = stored.StatusMessage;
        _lastActiveTs = _persistedLastActiveTs = stored.LastActiveTs;
        // Online before a restart: the user becomes unavailable once idle long enough, counted from the last activity.
        ScheduleIdleCheck();
    }

    public async Task<PresenceStatus> GetAsync(string viewerUserId)
    {
        if (viewerUserId != Key && !(await store.Presence.GetRoomPeersAsync(viewerUserId, CancellationToken.None)).Contains(Key))
            throw MatrixRequestException.Forbidden("You are not allowed to see their presence.");
        return new PresenceStatus(_presence, _statusMessage, _lastActiveTs, IsCurrentlyActive(_presence, _lastActiveTs, Now()));
    }

    public Task SetAsync(string presence, string? statusMessage)
    {
        RequireValid(presence);
        // Synapse: setting online counts as activity; the status message is replaced, so leaving it out clears it.
        return ChangeAsync(presence, statusMessage, presence == PresenceStates.Online ? Now() : _lastActiveTs);
    }

    public Task SyncingAsync(string presence)
    {
        RequireValid(presence);
        if (!options.Value.Enabled || presence == PresenceStates.Offline) return Task.CompletedTask;
        return ChangeAsync(presence, _statusMessage, presence == PresenceStates.Online ? Now() : _lastActiveTs);
    }

    public async Task ReceiveFromServerAsync(string origin, string presence, string? statusMessage, long lastActiveTs)
    {
        // Only the user's own server speaks for them; this server's users' presence is its own.
        if (!options.Value.Enabled || !PresenceStates.IsValid(presence) || origin == local.Name
            || !Identifiers.UserId.TryParse(Key, out var user) || user.Server.ToString() != origin)
            return;
        if (presence == _presence && statusMessage == _statusMessage && lastActiveTs <= _persistedLastActiveTs) return;
        // Kept only for users local users can see: those sharing a joined room with one of them, as this server knows.
        var peers = await store.Presence.GetRoomPeersAsync(Key, CancellationToken.None);
        if (!peers.Any(local.IsLocal)) return;
        // No idle timer: the user's server says when they go idle.
        await writes.WriteAsync(new NewPresence(Key, presence, statusMessage, lastActiveTs), announce: true);
        (_presence, _statusMessage, _lastActiveTs, _persistedLastActiveTs) = (presence, statusMessage, lastActiveTs, lastActiveTs);
    }

    /// <summary>
    /// Synapse's <c>currently_active</c>: online and active within the last minute. Computed when read rather than
    /// flipped by a timer, so a reader sees it turn false without a notification.
    /// </summary>
    public static bool IsCurrentlyActive(string presence, long lastActiveTs, long nowMs) =>
        presence == PresenceStates.Online && lastActiveTs > 0 && nowMs - lastActiveTs < (long)ActiveGranularity.TotalMilliseconds;

    private async Task ChangeAsync(string presence, string? statusMessage, long lastActiveTs)
    {
        var worthTelling = presence != _presence || statusMessage != _statusMessage
            || (presence == PresenceStates.Online && lastActiveTs - _persistedLastActiveTs > (long)ActiveGranularity.TotalMilliseconds);
        if (!worthTelling)
        {
            _lastActiveTs = Math.Max(_lastActiveTs, lastActiveTs);
            return;
        }
        await writes.WriteAsync(new NewPresence(Key, presence, statusMessage, lastActiveTs), announce: options.Value.Enabled);
        (_presence, _statusMessage, _lastActiveTs, _persistedLastActiveTs) = (presence, statusMessage, lastActiveTs, lastActiveTs);
        ScheduleIdleCheck();
    }

    /// <summary>
    /// While online, one timer waits until the user would have been idle for <see cref="PresenceOptions.IdleTimeout"/>
    /// since the last activity known then; activity meanwhile only moves <c>_lastActiveTs</c>, and the timer looks again.
    /// </summary>
    private void ScheduleIdleCheck()
    {
        if (!options.Value.Enabled || _presence != PresenceStates.Online || _idleCheck is not null) return;
        var due = Math.Max(0, _lastActiveTs + (long)options.Value.IdleTimeout.TotalMilliseconds - Now());
        _idleCheck = this.RegisterGrainTimer(CheckIdleAsync, new GrainTimerCreationOptions(TimeSpan.FromMilliseconds(due + 1), Timeout.InfiniteTimeSpan));
    }

    private async Task CheckIdleAsync(CancellationToken cancellationToken)
    {
        _idleCheck?.Dispose();
        _idleCheck = null;
        if (_presence != PresenceStates.Online) return;
        if (Now() - _lastActiveTs >= (long)options.Value.IdleTimeout.TotalMilliseconds)
        {
            // Synapse: an online user idle for the timeout becomes unavailable; the status message stays.
            await ChangeAsync(PresenceStates.Unavailable, _statusMessage, _lastActiveTs);
            return;
        }
        ScheduleIdleCheck();
    }

    private static void RequireValid(string presence)
    {
        if (!PresenceStates.IsValid(presence))
            throw MatrixRequestException.InvalidParam("presence must be one of online, unavailable, offline.");
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
