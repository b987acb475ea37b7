namespace HomeServer.GrainCalls;

/// <summary>One line of the results table; Placement is how many of the grains called live on silo 1 and silo 2.</summary>
public sealed record Row(string Scenario, string Load, string Placement, Measurement Result);

public sealed record ScenarioOptions(TimeSpan Warmup, TimeSpan Duration, int Grains, int Callers, int[] Outstanding, bool FromSilo, double? Rate);

public static class Scenarios
{
    private static readonly GrainCall ValueTaskCall = (grain, value) => grain.EchoValueAsync(value);
    private static readonly GrainCall TaskCall = (grain, value) => new ValueTask<int>(grain.EchoTaskAsync(value));

    /// <summary>
    /// Two silos; callers use silo 1's own <see cref="IGrainFactory"/> on grains activated on silo 1, so every call
    /// stays in the process and in the silo: no serialisation or socket, but Orleans' messaging and a turn of the
    /// grain scheduled on the thread pool.
    /// </summary>
    public static async Task<List<Row>> InProcessAsync(ScenarioOptions options)
    {
        await using var cluster = await BenchCluster.StartAsync(withClient: false);
        var silo = cluster.Silo1;
        var grains = Keys(options.Grains).Select(key => silo.GrainFactory.GetGrain<IBenchGrain>(key)).ToArray();
        var placement = await ActivateAsync(cluster, silo.GrainFactory, grains);

        var load = $"{options.Callers} callers, {options.Grains} grains";
        return
        [
            new("in-process ValueTask<int>", load, placement,
                LoadDrivers.ClosedLoop(grains, ValueTaskCall, options.Callers, options.Warmup, options.Duration)),
            new("in-process Task<int>", load, placement,
                LoadDrivers.ClosedLoop(grains, TaskCall, options.Callers, options.Warmup, options.Duration)),
        ];
    }

    /// <summary>
    /// Two silos over loopback TCP. The caller is a cluster client connected to both gateways (the grains are
    /// activated on the gateway the client sends them to), or, with FromSilo, silo 1 calling grains activated on
    /// silo 2. First the closed-loop peak over several levels of outstanding calls, then an open-loop run at half
    /// that peak (or only an open-loop run at Rate).
    /// </summary>
    public static async Task<List<Row>> CrossSiloAsync(ScenarioOptions options)
    {
        await using var cluster = await BenchCluster.StartAsync(withClient: !options.FromSilo);
        var caller = options.FromSilo ? cluster.Silo1.GrainFactory : cluster.Client;
        var grains = Keys(options.Grains).Select(key => caller.GetGrain<IBenchGrain>(key)).ToArray();
        // From a silo, silo 2 activates the grains (preferring itself) before silo 1 calls them. The client sends all
        // calls to a grain through the same gateway, which activates it on its own silo: no call is forwarded.
        var activator = options.FromSilo ? cluster.Silo2.GrainFactory : caller;
        var placement = await ActivateAsync(cluster, activator,
            grains.Select(grain => activator.GetGrain<IBenchGrain>(grain.GetPrimaryKeyString())).ToArray());

        var name = options.FromSilo ? "cross-silo (silo→silo)" : "cross-silo (client→silo)";
        var rows = new List<Row>();
        if (options.Rate is { } fixedRate)
        {
            rows.Add(new($"{name} fixed rate", $"open loop, {fixedRate:N0} calls/s", placement,
                LoadDrivers.OpenLoop(grains, ValueTaskCall, fixedRate, options.Warmup, options.Duration)));
            return rows;
        }
        foreach (var outstanding in options.Outstanding)
        {
            var result = LoadDrivers.ClosedLoop(grains, ValueTaskCall, outstanding, options.Warmup, options.Duration);
            rows.Add(new($"{name} peak", $"closed loop, {outstanding} outstanding", placement, result));
        }
        var rate = Math.Round(rows.Max(r => r.Result.CallsPerSecond) / 2);
        rows.Add(new($"{name} at 50% of peak", $"open loop, {rate:N0} calls/s", placement,
            LoadDrivers.OpenLoop(grains, ValueTaskCall, rate, options.Warmup, options.Duration)));
        return rows;
    }

    private static IEnumerable<string> Keys(int count) => Enumerable.Range(0, count).Select(i => $"g{i}");

    /// <summary>
    /// Calls each grain once through <paramref name="activator"/>, then asks the grain directory where each one
    /// lives; returns "silo 1/silo 2" counts (grains found on neither are reported on standard error).
    /// </summary>
    private static async Task<string> ActivateAsync(BenchCluster cluster, IGrainFactory activator, IBenchGrain[] grains)
    {
        foreach (var grain in grains) await grain.EchoValueAsync(0);
        var management = activator.GetGrain<IManagementGrain>(0);
        int onSilo1 = 0, onSilo2 = 0;
        foreach (var grain in grains)
        {
            var address = await management.GetActivationAddress(grain);
            if (address == cluster.Silo1.Address) onSilo1++;
            else if (address == cluster.Silo2.Address) onSilo2++;
        }
        if (onSilo1 + onSilo2 != grains.Length)
            Console.Error.WriteLine($"warning: {grains.Length - onSilo1 - onSilo2} grains not found in the grain directory");
        return $"{onSilo1}/{onSilo2}";
    }
}
