using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Limits;

/// <summary>
/// Long-polling /sync requests held per user (InputLimits:MaxParkedSyncsPerUser) and per device (one: the newer request
/// supersedes the older, which answers at once).
/// </summary>
public sealed class ParkedSyncLimitTests
{
    private static async Task<HttpResponseMessage> SyncAsync(RunningServer server, TestUser device, string? since, int timeoutMs, CancellationToken cancellationToken = default)
    {
        var path = "/_matrix/client/v3/sync" + (since is null ? "" : $"?since={Uri.EscapeDataString(since)}&timeout={timeoutMs}");
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", device.AccessToken);
        return await server.Client.SendAsync(request, cancellationToken);
    }

    private static async Task<string> NextBatchAsync(RunningServer server, TestUser device)
    {
        using var response = await SyncAsync(server, device, since: null, timeoutMs: 0);
        return (await response.ReadJsonAsync()).GetProperty("next_batch").GetString()!;
    }

    /// <summary>Waits until the user's sync grain holds <paramref name="count"/> waiting requests (they park asynchronously).</summary>
    private static async Task WaitUntilParkedAsync(Task<HttpResponseMessage>[] polls, TimeSpan settle)
    {
        await Task.Delay(settle);
        Assert.All(polls, poll => Assert.False(poll.IsCompleted, "A long-poll answered before its timeout."));
    }

    [Fact]
    public async Task A_user_holds_at_most_the_configured_waiting_syncs_and_one_more_is_429()
    {
        await using var server = await RunningServer.StartAsync(["--InputLimits:MaxParkedSyncsPerUser=2"]);
        var first = await TestUsers.CreateAsync(server, "alice");
        var second = await TestUsers.AddDeviceAsync(server, first, "SECOND");
        var third = await TestUsers.AddDeviceAsync(server, first, "THIRD");
        var since = await NextBatchAsync(server, first);
        using var stop = new CancellationTokenSource();

        var polls = new[] { SyncAsync(server, first, since, 30_000, stop.Token), SyncAsync(server, second, since, 30_000, stop.Token) };
        await WaitUntilParkedAsync(polls, TimeSpan.FromSeconds(1));

        using var refused = await SyncAsync(server, third, since, 30_000);
        await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "M_LIMIT_EXCEEDED");
        Assert.Equal(1000, (await refused.ReadJsonAsync()).GetProperty("retry_after_ms").GetInt32());
        using var immediate = await SyncAsync(server, third, since, 0);
        Assert.Equal(HttpStatusCode.OK, immediate.StatusCode);

        await stop.CancelAsync();
        await Task.WhenAll(polls.Select(poll => poll.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    [Fact]
    public async Task A_devices_new_sync_supersedes_its_waiting_one_which_answers_at_once()
    {
        await using var server = await RunningServer.StartAsync(["--InputLimits:MaxParkedSyncsPerUser=1"]);
        var device = await TestUsers.CreateAsync(server, "alice");
        var since = await NextBatchAsync(server, device);
        using var stop = new CancellationTokenSource();

        var older = SyncAsync(server, device, since, 30_000, stop.Token);
        await WaitUntilParkedAsync([older], TimeSpan.FromSeconds(1));
        var clock = Stopwatch.StartNew();
        var newer = SyncAsync(server, device, since, 30_000, stop.Token);

        using (var superseded = await older.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal(HttpStatusCode.OK, superseded.StatusCode);
            var body = await superseded.ReadJsonAsync();
            Assert.Equal(since, body.GetProperty("next_batch").GetString());
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10));
        await WaitUntilParkedAsync([newer], TimeSpan.FromSeconds(1));

        await stop.CancelAsync();
        await newer.ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
