using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Testing;

namespace HomeServer.Runtime.Tests;

public sealed class GrainCallTests : IAsyncLifetime
{
    private readonly SharedStore _store = new();
    private readonly ProbeLog _log = new();
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await Clusters.StartAsync(1, _store, _log, options =>
    {
        options.ResponseTimeout = TimeSpan.FromSeconds(2);
        options.Catalog.CollectionAge = TimeSpan.FromMilliseconds(300);
        options.Catalog.CollectionQuantum = TimeSpan.FromMilliseconds(100);
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task A_grain_is_activated_on_first_call_and_keeps_its_state(string path)
    {
        var counter = Clusters.Caller(_cluster, path).GetGrain<ICounterGrain>("c1");
        Assert.Equal(1, await counter.IncrementAsync());
        Assert.Equal(2, await counter.IncrementAsync());
        Assert.Equal(2, await counter.GetAsync());
        Assert.Equal(1, _store.Activations["c1"]);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task All_return_shapes_and_complex_arguments_round_trip(string path)
    {
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("shapes");
        Assert.Equal("héllo 日本", await probe.EchoAsync("héllo 日本"));
        Assert.Equal(5, await probe.AddAsync(2, 3));
        await probe.PingAsync();
        var result = await probe.RoundTripAsync(new Payload("p", [1, 2, 3], new() { ["k"] = "v" }));
        Assert.Equal("p!", result.Name);
        Assert.Equal([1, 2, 3], result.Numbers);
        Assert.Equal("v", result.Tags["k"]);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task Turns_never_overlap(string path)
    {
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("turns");
        var calls = Enumerable.Range(0, 20).Select(_ => probe.EnterAsync(TimeSpan.FromMilliseconds(5))).ToArray();
        var inside = await Task.WhenAll(calls);
        Assert.All(inside, n => Assert.Equal(1, n));
        Assert.Equal(1, await probe.MaxConcurrencySeenAsync());
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task An_interleaving_method_runs_while_a_turn_is_in_progress(string path)
    {
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("interleave");
        await probe.PingAsync();
        var holding = probe.EnterAsync(TimeSpan.FromMilliseconds(800));
        var seen = 0;
        for (var i = 0; i < 50 && seen == 0; i++)
        {
            seen = await probe.PeekAsync(); // would wait 800 ms behind the turn if it were not interleaving
            if (seen == 0) await Task.Delay(10);
        }
        Assert.Equal(1, seen);
        Assert.False(holding.IsCompleted);
        await holding;
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task Exceptions_reach_the_caller_with_type_and_message(string path)
    {
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("throws");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => probe.ThrowAsync("boom"));
        Assert.Equal("boom", error.Message);
        var early = await Assert.ThrowsAsync<ArgumentException>(() => probe.ThrowSynchronously());
        Assert.Equal("thrown before any await", early.Message);
        Assert.Equal("still alive", await probe.EchoAsync("still alive"));
    }

    [Fact]
    public async Task A_remote_exception_that_cannot_be_recreated_names_its_type()
    {
        var probe = _cluster.Client.GetGrain<IProbeGrain>("custom");
        var error = await Assert.ThrowsAsync<RemoteGrainException>(() => probe.ThrowCustomAsync("custom failure"));
        Assert.Equal(typeof(NoMessageConstructorException).FullName, error.RemoteType);
        Assert.Equal("custom failure", error.Message);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task A_call_that_runs_longer_than_the_timeout_fails_with_a_timeout(string path)
    {
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("slow");
        var error = await Assert.ThrowsAsync<GrainCallTimeoutException>(() => probe.SleepAsync(TimeSpan.FromSeconds(4)));
        Assert.Contains("probe/slow.SleepAsync", error.Message);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task Cancellation_flows_from_the_caller_to_the_grain(string path)
    {
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("cancel-" + path);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var call = probe.WaitForCancellationAsync(TimeSpan.FromSeconds(1.5), cancellation.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        for (var i = 0; i < 100 && _log.Count("cancelled cancel-" + path) == 0; i++) await Task.Delay(20);
        Assert.Equal(1, _log.Count("cancelled cancel-" + path));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task An_idle_grain_is_deactivated_and_a_later_call_activates_it_again(string path)
    {
        var counter = Clusters.Caller(_cluster, path).GetGrain<ICounterGrain>("idle-" + path);
        await counter.IncrementAsync();
        Assert.Equal(1, await counter.ActivationNumberAsync());
        for (var i = 0; i < 100 && _store.Live["idle-" + path] != 0; i++) await Task.Delay(20);
        Assert.Equal(0, _store.Live["idle-" + path]);
        Assert.Equal(2, await counter.ActivationNumberAsync());
        Assert.Equal(1, await counter.GetAsync()); // state was saved on deactivation and reloaded
    }

    [Fact]
    public async Task DeactivateOnIdle_deactivates_after_the_turn()
    {
        var probe = _cluster.Silos[0].GetGrain<IProbeGrain>("bye");
        await probe.DeactivateSoonAsync();
        for (var i = 0; i < 100 && _log.Count("deactivate bye Requested") == 0; i++) await Task.Delay(10);
        Assert.Equal(1, _log.Count("deactivate bye Requested"));
        await probe.PingAsync();
        Assert.Equal(2, _log.Count("activate bye"));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task A_failed_activation_fails_the_call_and_the_next_call_activates_afresh(string path)
    {
        _log.FailNextActivation["fragile-" + path] = true;
        var probe = Clusters.Caller(_cluster, path).GetGrain<IProbeGrain>("fragile-" + path);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => probe.EchoAsync("first"));
        Assert.Contains("activation of fragile-" + path + " refused", error.Message);
        Assert.Equal("second", await probe.EchoAsync("second"));
        Assert.Equal(2, _log.Count("activate fragile-" + path));
    }

    [Theory]
    [InlineData("local")]
    [InlineData("remote")]
    public async Task An_unknown_grain_type_fails_with_an_error_naming_it(string path)
    {
        var grain = Clusters.Caller(_cluster, path).GetGrain<INotRegisteredGrain>("x");
        var error = await Assert.ThrowsAsync<UnknownGrainTypeException>(() => grain.GetAsync());
        Assert.Contains(typeof(INotRegisteredGrain).FullName!, error.Message);
    }

    [Fact]
    public async Task An_unknown_method_fails_with_an_error_naming_it()
    {
        await using var newerClient = new ClusterClient(_cluster.Table); // its own registry, as a newer build's would be
        await newerClient.ConnectAsync(TimeSpan.FromSeconds(5));
        var grain = newerClient.GetGrain<IProbeGrainFromNewerBuild>("newer");
        var error = await Assert.ThrowsAsync<UnknownGrainMethodException>(() => grain.MethodOnlyInNewerBuildAsync());
        Assert.Contains("MethodOnlyInNewerBuildAsync", error.Message);
        Assert.Equal("shared", await grain.EchoAsync("shared")); // methods both builds know still work
    }

    [Fact]
    public void An_interface_with_overloads_is_refused_with_a_clear_error()
    {
        var error = Assert.Throws<ArgumentException>(() => _cluster.Client.GetGrain<IOverloadedGrain>("o"));
        Assert.Contains("overloads DoAsync", error.Message);
    }
}
