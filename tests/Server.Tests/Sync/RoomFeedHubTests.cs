using HomeServer.Grains.Cluster;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Server.Tests.Sync;

/// <summary>The silo's room feed hub, called as rooms call it, with sync grains that record what reaches them.</summary>
public sealed class RoomFeedHubTests(SqliteRecordingServerFixture fixture) : IClassFixture<SqliteRecordingServerFixture>
{
    private static SharedEvent Event(long globalPosition) =>
        new($"$event{globalPosition}", 7, globalPosition, "m.room.message", null, "@sender:localhost", 0, false, "{"u8.ToArray(), [], null, null);

    [Fact]
    public async Task The_hub_hands_events_to_the_running_sync_grains_of_its_silo_and_wakes_no_other()
    {
        var silo = fixture.Server.App.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var activations = fixture.Server.App.Services.GetRequiredService<ILocalActivationStatusChecker>();
        var grains = fixture.Server.App.Services.GetRequiredService<IGrainFactory>();
        var awake = $"@awake-{Guid.NewGuid():N}:localhost";
        var asleep = $"@asleep-{Guid.NewGuid():N}:localhost";
        await grains.GetGrain<ISyncGrain>(awake).NotifyAsync(new SyncNotice(SyncNoticeKind.AccountData, null, 1));

        var events = new RoomFeedEvents("!room:localhost", 6, [Event(42)]);
        await grains.GetGrain<IRoomFeedHubGrain>(SiloKeyedPlacement.KeyOf(silo)).DeliverAsync(events, [awake, asleep]);

        Assert.Contains(RecordingSyncGrain.NoticesOf(awake), n => n is { Kind: SyncNoticeKind.RoomEvent, RoomId: "!room:localhost", Position: 42 });
        Assert.Empty(RecordingSyncGrain.NoticesOf(asleep));
        Assert.True(activations.IsLocallyActivated(GrainId.Create("sync", awake)));
        Assert.False(activations.IsLocallyActivated(GrainId.Create("sync", asleep)));
    }

    [Fact]
    public async Task Room_wide_notices_reach_the_running_sync_grains_of_its_silo_and_wake_no_other()
    {
        var silo = fixture.Server.App.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var activations = fixture.Server.App.Services.GetRequiredService<ILocalActivationStatusChecker>();
        var grains = fixture.Server.App.Services.GetRequiredService<IGrainFactory>();
        var awake = $"@awake-{Guid.NewGuid():N}:localhost";
        var asleep = $"@asleep-{Guid.NewGuid():N}:localhost";
        await grains.GetGrain<ISyncGrain>(awake).NotifyAsync(new SyncNotice(SyncNoticeKind.AccountData, null, 1));

        var typing = new SyncNotice(SyncNoticeKind.Typing, "!room:localhost", 3);
        await grains.GetGrain<IRoomFeedHubGrain>(SiloKeyedPlacement.KeyOf(silo)).NotifyAsync(typing, [awake, asleep]);

        Assert.Contains(typing, RecordingSyncGrain.NoticesOf(awake));
        Assert.Empty(RecordingSyncGrain.NoticesOf(asleep));
        Assert.True(activations.IsLocallyActivated(GrainId.Create("sync", awake)));
        Assert.False(activations.IsLocallyActivated(GrainId.Create("sync", asleep)));
    }
}
