using System.Diagnostics;
using System.Net;
using HomeServer.Gateway.Overload;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.RateLimits;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Limits;

/// <summary>
/// The in-flight bounds (Overload): requests past a saturated bound and its queue get 429 M_LIMIT_EXCEEDED at once and
/// change nothing; requests under it pass; parked long-polls hold no slot; one user's bound leaves others alone.
/// Slots are held by a test endpoint that answers only when told to.
/// </summary>
public sealed class OverloadAdmissionTests
{
    private const string HoldPath = "/_matrix/client/v3/test/hold";

    /// <summary>The requests to <see cref="HoldPath"/>: each waits inside the server until <see cref="Release"/>.</summary>
    private sealed class HeldRequests
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _entered;

        public int Entered => Volatile.Read(ref _entered);

        public async Task<IResult> HoldAsync()
        {
            Interlocked.Increment(ref _entered);
            await _released.Task;
            return Results.Text("{}", "application/json");
        }

        public void Release() => _released.TrySetResult();
    }

    private static async Task<(RunningServer Server, HeldRequests Held)> StartAsync(params string[] args)
    {
        var held = new HeldRequests();
        var server = await RunningServer.StartAsync(args, app => app.MapGet(HoldPath, held.HoldAsync));
        return (server, held);
    }

    private static Task<HttpResponseMessage> HoldAsync(RunningServer server, TestUser? user) => server.Client.GetAsync(HoldPath, user?.AccessToken);

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (!condition())
        {
            Assert.True(Stopwatch.GetTimestamp() < deadline, $"Timed out waiting until {what}.");
            await Task.Delay(10);
        }
    }

    private static RequestAdmission AdmissionOf(RunningServer server) => server.App.Services.GetRequiredService<RequestAdmission>();

    private static Task<HttpResponseMessage> SendAsync(RunningServer server, TestUser user, string roomId, string txnId, string body) =>
        server.Client.PutAsync($"{V3}/rooms/{Uri.EscapeDataString(roomId)}/send/m.room.message/{txnId}", Json(new { msgtype = "m.text", body }), user.AccessToken);

    private static async Task<int> CountMessagesAsync(RunningServer server, TestUser user, string roomId, string body)
    {
        using var response = await server.Client.GetAsync($"{V3}/rooms/{Uri.EscapeDataString(roomId)}/messages?dir=b&limit=100", user.AccessToken);
        var chunk = (await response.OkJsonAsync()).GetProperty("chunk");
        return chunk.EnumerateArray().Count(e => e.GetProperty("content").TryGetProperty("body", out var b) && b.GetString() == body);
    }

    [Fact]
    public async Task A_saturated_process_sheds_with_429_and_a_refused_send_stores_nothing()
    {
        var (server, held) = await StartAsync("--Overload:MaxConcurrentRequests=2", "--Overload:QueueLimit=1", "--Overload:MaxQueueWait=00:00:30");
        await using var _ = server;
        var alice = await TestUsers.CreateAsync(server, "alice");
        var bob = await TestUsers.CreateAsync(server, "bob");
        var room = await server.Client.CreateRoomAsync(alice);

        var holding = new[] { HoldAsync(server, alice), HoldAsync(server, bob) };
        await WaitUntilAsync(() => held.Entered == 2, "both requests hold a slot");
        var queued = HoldAsync(server, null);
        await WaitUntilAsync(() => AdmissionOf(server).Queued == 1, "the third request waits in the queue");

        var started = Stopwatch.GetTimestamp();
        using (var refused = await SendAsync(server, alice, room, "refused-txn", "refused while saturated"))
        {
            var retryAfterMs = await refused.AssertLimitExceededAsync();
            Assert.InRange(retryAfterMs, 1000, 1500);
        }
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "A shed request is answered at once, not after waiting.");
        using (var whoami = await server.Client.GetAsync($"{V3}/account/whoami", bob.AccessToken)) await whoami.AssertLimitExceededAsync();
        Assert.False(queued.IsCompleted);

        held.Release();
        foreach (var response in await Task.WhenAll([.. holding, queued])) await response.AssertOkAsync();
        await WaitUntilAsync(() => AdmissionOf(server).InFlight == 0, "every slot is free again");

        Assert.Equal(0, await CountMessagesAsync(server, alice, room, "refused while saturated"));
        // The same transaction id now sends the event: nothing was recorded for it when it was refused.
        using (var sent = await SendAsync(server, alice, room, "refused-txn", "refused while saturated")) await sent.AssertOkAsync();
        Assert.Equal(1, await CountMessagesAsync(server, alice, room, "refused while saturated"));
    }

    [Fact]
    public async Task Requests_under_the_bound_pass_and_health_versions_and_metrics_are_never_shed()
    {
        var (server, held) = await StartAsync("--Overload:MaxConcurrentRequests=2", "--Overload:QueueLimit=0");
        await using var _ = server;
        var alice = await TestUsers.CreateAsync(server, "alice");
        var admin = await TestUsers.CreateAsync(server, "admin", isAdmin: true);
        var room = await server.Client.CreateRoomAsync(alice);

        var first = HoldAsync(server, null);
        await WaitUntilAsync(() => held.Entered == 1, "one request holds a slot");
        using (var sent = await SendAsync(server, alice, room, "under-bound", "under the bound")) await sent.AssertOkAsync();

        var second = HoldAsync(server, null);
        await WaitUntilAsync(() => held.Entered == 2, "both slots are held");
        using (var refused = await server.Client.GetAsync($"{V3}/account/whoami", alice.AccessToken)) await refused.AssertLimitExceededAsync();
        foreach (var path in new[] { "/health/live", "/health/ready", "/_matrix/client/versions" })
        {
            using var response = await server.Client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        }
        using (var metrics = await server.Client.GetAsync("/_homeserver/admin/metrics", admin.AccessToken)) await metrics.AssertOkAsync();

        held.Release();
        foreach (var response in await Task.WhenAll(first, second)) await response.AssertOkAsync();
        Assert.Equal(1, await CountMessagesAsync(server, alice, room, "under the bound"));
    }

    [Fact]
    public async Task A_request_that_waits_longer_than_the_queue_wait_is_shed()
    {
        var (server, held) = await StartAsync("--Overload:MaxConcurrentRequests=1", "--Overload:QueueLimit=4", "--Overload:MaxQueueWait=00:00:00.300");
        await using var _ = server;
        var alice = await TestUsers.CreateAsync(server, "alice");

        var holding = HoldAsync(server, null);
        await WaitUntilAsync(() => held.Entered == 1, "the request holds the slot");
        var started = Stopwatch.GetTimestamp();
        using (var refused = await server.Client.GetAsync($"{V3}/account/whoami", alice.AccessToken)) await refused.AssertLimitExceededAsync();
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(250), "It waited in the queue first.");
        Assert.Equal(0, AdmissionOf(server).Queued);

        held.Release();
        await (await holding).AssertOkAsync();
    }

    [Fact]
    public async Task Parked_long_polls_hold_no_slot()
    {
        const int bound = 2;
        var (server, held) = await StartAsync($"--Overload:MaxConcurrentRequests={bound}", "--Overload:QueueLimit=0");
        await using var _ = server;
        var users = await Task.WhenAll(Enumerable.Range(0, bound * 2).Select(i => TestUsers.CreateAsync(server, $"poller{i}")));
        var sinces = new List<string>();
        foreach (var user in users)
        {
            using var initial = await server.Client.GetAsync($"{V3}/sync", user.AccessToken);
            sinces.Add((await initial.OkJsonAsync()).GetProperty("next_batch").GetString()!);
        }

        using var stop = new CancellationTokenSource();
        var polls = users.Select((user, i) => LongPollAsync(server, user, sinces[i], stop.Token)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.All(polls, poll => Assert.False(poll.IsCompleted, "A long-poll answered before its timeout."));
        Assert.Equal(0, AdmissionOf(server).InFlight);

        // With twice the bound parked, the whole bound is still there for other requests.
        var holding = new[] { HoldAsync(server, users[0]), HoldAsync(server, users[1]) };
        await WaitUntilAsync(() => held.Entered == bound, "the bound is held by ordinary requests");
        using (var refused = await server.Client.GetAsync($"{V3}/account/whoami", users[2].AccessToken)) await refused.AssertLimitExceededAsync();
        held.Release();
        foreach (var response in await Task.WhenAll(holding)) await response.AssertOkAsync();
        using (var whoami = await server.Client.GetAsync($"{V3}/account/whoami", users[3].AccessToken)) await whoami.AssertOkAsync();
        Assert.All(polls, poll => Assert.False(poll.IsCompleted, "A long-poll answered before its timeout."));

        await stop.CancelAsync();
        await Task.WhenAll(polls.Select(poll => poll.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    [Fact]
    public async Task Disabled_admits_everything()
    {
        var (server, held) = await StartAsync("--Overload:Enabled=false", "--Overload:MaxConcurrentRequests=1", "--Overload:QueueLimit=0");
        await using var _ = server;

        var holding = new[] { HoldAsync(server, null), HoldAsync(server, null) };
        await WaitUntilAsync(() => held.Entered == 2, "both requests are served past the bound of 1");
        using (var login = await server.Client.GetAsync($"{V3}/login")) await login.AssertOkAsync();

        held.Release();
        foreach (var response in await Task.WhenAll(holding)) await response.AssertOkAsync();
    }

    private static async Task<HttpResponseMessage> LongPollAsync(RunningServer server, TestUser user, string since, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{V3}/sync?since={Uri.EscapeDataString(since)}&timeout=30000");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await server.Client.SendAsync(request, cancellationToken);
    }

    [Fact]
    public async Task One_users_bound_leaves_other_users_and_addresses_alone()
    {
        var (server, held) = await StartAsync("--Overload:MaxConcurrentRequestsPerUser=2", "--Overload:QueueLimitPerUser=0", ForwardedClient.TrustLoopback);
        await using var _ = server;
        var noisy = await TestUsers.CreateAsync(server, "noisy");
        var noisyOtherDevice = await TestUsers.AddDeviceAsync(server, noisy, "OTHER");
        var quiet = await TestUsers.CreateAsync(server, "quiet");

        var holding = new[] { HoldAsync(server, noisy), HoldAsync(server, noisy) };
        await WaitUntilAsync(() => held.Entered == 2, "the noisy user holds both of its slots");

        // Every device of the user shares the user's bound.
        using (var refused = await server.Client.GetAsync($"{V3}/account/whoami", noisyOtherDevice.AccessToken)) await refused.AssertLimitExceededAsync();
        using (var other = await server.Client.GetAsync($"{V3}/account/whoami", quiet.AccessToken)) await other.AssertOkAsync();
        using (var anonymous = await server.Client.SendFromAsync(ForwardedClient.NewAddress(), HttpMethod.Get, $"{V3}/login")) await anonymous.AssertOkAsync();

        held.Release();
        foreach (var response in await Task.WhenAll(holding)) await response.AssertOkAsync();
        using (var again = await server.Client.GetAsync($"{V3}/account/whoami", noisyOtherDevice.AccessToken)) await again.AssertOkAsync();
    }

    [Fact]
    public async Task Unauthenticated_requests_are_bounded_per_client_address()
    {
        var (server, held) = await StartAsync("--Overload:MaxConcurrentRequestsPerUser=1", "--Overload:QueueLimitPerUser=0", ForwardedClient.TrustLoopback);
        await using var _ = server;
        var address = ForwardedClient.NewAddress();

        var holding = server.Client.SendFromAsync(address, HttpMethod.Get, HoldPath);
        await WaitUntilAsync(() => held.Entered == 1, "the address holds its slot");
        using (var refused = await server.Client.SendFromAsync(address, HttpMethod.Get, $"{V3}/login")) await refused.AssertLimitExceededAsync();
        using (var other = await server.Client.SendFromAsync(ForwardedClient.NewAddress(), HttpMethod.Get, $"{V3}/login")) await other.AssertOkAsync();

        held.Release();
        await (await holding).AssertOkAsync();
    }
}

public sealed class OverloadConfigurationTests
{
    [Fact]
    public async Task Defaults_are_the_documented_ones()
    {
        var options = await BuiltServer.OptionsAsync<OverloadOptions>();

        Assert.True(options.Enabled);
        Assert.Equal(32 * Environment.ProcessorCount, options.MaxConcurrentRequests);
        Assert.Equal(32 * Environment.ProcessorCount, options.QueueLimit);
        Assert.Equal(32, options.MaxConcurrentRequestsPerUser);
        Assert.Equal(16, options.QueueLimitPerUser);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.MaxQueueWait);
        Assert.Equal(TimeSpan.FromSeconds(1), options.RetryAfter);
    }

    [Theory]
    [InlineData("--Overload:MaxConcurrentRequests=0", "Overload:MaxConcurrentRequests must be at least 1")]
    [InlineData("--Overload:QueueLimit=-1", "Overload:QueueLimit must be at least 0")]
    [InlineData("--Overload:MaxConcurrentRequestsPerUser=0", "Overload:MaxConcurrentRequestsPerUser must be at least 1")]
    [InlineData("--Overload:QueueLimitPerUser=-1", "Overload:QueueLimitPerUser must be at least 0")]
    [InlineData("--Overload:MaxQueueWait=-00:00:01", "Overload:MaxQueueWait must not be negative")]
    [InlineData("--Overload:RetryAfter=00:00:00", "Overload:RetryAfter must be between 1 ms and 1 hour")]
    [InlineData("--Overload:QueueLimit=some", "Failed to convert configuration value")]
    public void Invalid_bounds_are_reported_at_start(string argument, string failure)
    {
        var failures = BuiltServer.ConfigurationFailures(argument);

        Assert.Contains(failures, message => message.Contains(failure, StringComparison.Ordinal));
    }
}
