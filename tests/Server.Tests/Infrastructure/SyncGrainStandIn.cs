using HomeServer.Grains;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Sync;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>
/// Base for test stand-ins of the sync grain that only record notices: /sync itself is not served by them, so a
/// test that reaches it fails loudly instead of getting a made-up response.
/// </summary>
public abstract class SyncGrainStandIn : HomeServerGrain, ISyncGrain, ILocalFeedReceiver
{
    /// <summary>Registered as running on its silo, as the real sync grain is, so the silo's room feed hub reaches it.</summary>
    protected override Task ActivateAsync(CancellationToken cancellationToken)
    {
        ServiceProvider.GetRequiredService<LocalSyncGrains>().Add(Key, this);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        ServiceProvider.GetRequiredService<LocalSyncGrains>().Remove(Key, this);
        return Task.CompletedTask;
    }

    public abstract Task NotifyAsync(SyncNotice notice);

    /// <summary>Shared room events count as a room-event notice at the batch's last position.</summary>
    public virtual Task ReceiveAsync(RoomFeedEvents events) =>
        NotifyAsync(new SyncNotice(SyncNoticeKind.RoomEvent, events.RoomId, events.Events[^1].GlobalPosition));

    void ILocalFeedReceiver.Receive(RoomFeedEvents events) => ReceiveAsync(events);

    void ILocalFeedReceiver.Notify(SyncNotice notice) => NotifyAsync(notice);

    public virtual Task<SyncResponse> SyncAsync(SyncRequest request, CancellationToken cancellationToken) =>
        throw new NotSupportedException("This sync grain stand-in only records notices.");
}
