using HomeServer.Runtime.Hosting;
using HomeServer.Runtime.Placement;
using HomeServer.Runtime.Testing;

namespace HomeServer.Runtime.Benchmarks;

/// <summary>One line of the results table.</summary>
public sealed record Row(string Scenario, string Load, Measurement Result);

public sealed record ScenarioOptions(TimeSpan Warmup, TimeSpan Duration, int Grains, int Callers, int[] Outstanding, bool FromSilo, double? Rate);

public static class Scenarios
{
    private static readonly GrainCall ValueTaskCall = (grain, value) => grain.EchoValueAsync(value);
    private static readonly GrainCall TaskCall = (grain, value) => new ValueTask<int>(grain.EchoTaskAsync(value));

    /// <summary>
    /// Two silos; callers use silo 1's own factory on grains that silo 1 owns, so every call stays in-process
    /// (placement check, catalog lookup, turn on the caller's thread, no serialisation).
    /// </summary>
    public static async Task<List<Row>> InProcessAsync(ScenarioOptions options)
    {
        var cluster = await StartClusterAsync();
        await using var _ = Teardown(cluster);
        var silo = cluster.Silos[0];
        var grains = Keys(cluster, owner: silo, options.Grains).Select(silo.GetGrain<IBenchGrain>).ToArray();
        await ActivateAsync(grains);

        var load = $"{options.Callers} callers, {options.Grains} grains";
        return
        [
            new("in-process ValueTask<int>", load,
                LoadDrivers.ClosedLoop(grains, ValueTaskCall, options.Callers, yieldEvery: 64, options.Warmup, options.Duration)),
            new("in-process Task<int>", load,
                LoadDrivers.ClosedLoop(grains, TaskCall, options.Callers, yieldEvery: 64, options.Warmup, options.Duration)),
        ];
    }

    /// <summary>
    /// Two silos over loopback TCP. The caller is the cluster client (each call goes straight to the owning silo)
    /// or, with FromSilo, silo 1 calling grains owned by silo 2. First the closed-loop peak over several levels
    /// of outstanding calls, then an open-loop run at half that peak (or only an open-loop run at Rate).
    /// </summary>
    public static async Task<List<Row>> CrossSiloAsync(ScenarioOptions options)
    {
        var cluster = await StartClusterAsync();
        await using var _ = Teardown(cluster);
        IGrainFactory caller = options.FromSilo ? cluster.Silos[0] : cluster.Client;
        var keys = options.FromSilo
            ? Keys(cluster, owner: cluster.Silos[1], options.Grains)
            : Enumerable.Range(0, options.Grains).Select(i => $"g{i}");
        var grains = keys.Select(caller.GetGrain<IBenchGrain>).ToArray();
        await ActivateAsync(grains);

        var name = options.FromSilo ? "cross-silo (silo→silo)" : "cross-silo (client→silo)";
        var rows = new List<Row>();
        if (options.Rate is { } fixedRate)
        {
            rows.Add(new($"{name} fixed rate", $"open loop, {fixedRate:N0} calls/s",
                LoadDrivers.OpenLoop(grains, ValueTaskCall, fixedRate, options.Warmup, options.Duration)));
            return rows;
        }
        foreach (var outstanding in options.Outstanding)
        {
            var result = LoadDrivers.ClosedLoop(grains, ValueTaskCall, outstanding, yieldEvery: 0, options.Warmup, options.Duration);
            rows.Add(new($"{name} peak", $"closed loop, {outstanding} outstanding", result));
        }
        var peak = rows.Max(r => r.Result.CallsPerSecond);
        var rate = Math.Round(peak / 2);
        rows.Add(new($"{name} at 50% of peak", $"open loop, {rate:N0} calls/s",
            LoadDrivers.OpenLoop(grains, ValueTaskCall, rate, options.Warmup, options.Duration)));
        return rows;
    }

    private static Task<TestCluster> StartClusterAsync() =>
        TestCluster.StartAsync(2, grains => grains.AddGrain<IBenchGrain, BenchGrain>());

    /// <summary>
    /// Stops the cluster after the measurements. A failure while stopping is reported but does not discard the
    /// results already taken.
    /// </summary>
    private static IAsyncDisposable Teardown(TestCluster cluster) => new AsyncDisposable(async () =>
    {
        try
        {
            await cluster.DisposeAsync();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"warning: stopping the test cluster failed: {ex.GetType().Name}: {ex.Message}");
        }
    });

    private sealed class AsyncDisposable(Func<Task> dispose) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await dispose();
    }

    /// <summary>The first <paramref name="count"/> keys whose owner under the current view is <paramref name="owner"/>.</summary>
    private static IEnumerable<string> Keys(TestCluster cluster, Silo owner, int count) =>
        Enumerable.Range(0, int.MaxValue)
            .Select(i => $"g{i}")
            .Where(key => RendezvousPlacement.SelectOwner(new GrainId("bench", key), cluster.Client.Membership.Current.ActiveSilos) == owner.Address)
            .Take(count)
            .ToArray();

    private static async Task ActivateAsync(IBenchGrain[] grains)
    {
        foreach (var grain in grains) await grain.EchoValueAsync(0);
    }
}
