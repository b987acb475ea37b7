using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Grains.Sync;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// Initial and full-state syncs are built a few at a time per silo (SyncDelivery:MaxConcurrentInitialSyncs): the
/// others wait their turn and are then answered in full, one whose client gives up leaves the line, and incremental
/// syncs do not wait at all.
/// </summary>
public abstract class InitialSyncQueueTests : IAsyncLifetime
{
    private const int Places = 2;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private StoreBackend _backend = null!;
    private RunningServer _server = null!;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    public async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync();
        _server = await RunningServer.StartAsync([.. _backend.ServerArguments, $"--SyncDelivery:MaxConcurrentInitialSyncs={Places}"]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Initial_syncs_beyond_the_bound_wait_their_turn_a_cancelled_one_leaves_the_line_and_the_rest_are_answered_in_full()
    {
        var alice = await SyncUser.RegisterAsync(_server, "alice");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "private_chat", name = "Queue" });
        await alice.Rooms.SendTextAsync(roomId, "hello");
        var since = NextBatch(await alice.SyncAsync());
        var gate = _server.App.Services.GetRequiredService<InitialSyncGate>();
        Assert.Equal(Places, gate.Capacity);

        // Every place taken, as by builds in progress.
        var held = new List<IDisposable>();
        for (var i = 0; i < Places; i++) held.Add(await gate.EnterAsync(CancellationToken.None));
        var waiting = new[] { "", "", $"since={Uri.EscapeDataString(since)}&full_state=true" }.Select(query => SyncAsync(alice, query, CancellationToken.None)).ToList();
        using var giveUp = new CancellationTokenSource();
        var abandoned = SyncAsync(alice, "", giveUp.Token);
        await UntilAsync(() => gate.Waiting == 4);

        // An incremental sync is not an initial one: it passes while the line waits.
        var incremental = await SyncAsync(alice, $"since={Uri.EscapeDataString(since)}&timeout=0", CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, incremental.Status);

        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        await UntilAsync(() => gate.Waiting == 3);
        Assert.All(waiting, sync => Assert.False(sync.IsCompleted));

        foreach (var place in held) place.Dispose();
        var answers = await Task.WhenAll(waiting).WaitAsync(Patience);

        Assert.All(answers, answer =>
        {
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            // The room in full: its state at the timeline's start and the timeline (empty for the full_state sync).
            var room = answer.Body.GetProperty("rooms").GetProperty("join").GetProperty(roomId);
            var types = room.GetProperty("state").GetProperty("events").EnumerateArray()
                .Concat(room.GetProperty("timeline").GetProperty("events").EnumerateArray())
                .Select(e => e.GetProperty("type").GetString()).ToList();
            Assert.Contains("m.room.create", types);
            Assert.Contains("m.room.name", types);
        });
        Assert.Equal(0, gate.Waiting);
        Assert.Equal(0, gate.Building);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SyncAsync(SyncUser user, string query, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_matrix/client/v3/sync" + (query.Length > 0 ? "?" + query : ""));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await _server.Client.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        Assert.Equal(response.Content.Headers.ContentLength, body.Length);
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    private static string NextBatch(JsonElement sync) => sync.GetProperty("next_batch").GetString()!;

    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The line of initial syncs did not reach the expected length in time.");
            await Task.Delay(20);
        }
    }
}

public sealed class SqliteInitialSyncQueueTests : InitialSyncQueueTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresInitialSyncQueueTests : InitialSyncQueueTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
