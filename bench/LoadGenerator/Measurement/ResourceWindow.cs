using HomeServer.LoadGenerator.Output;

namespace HomeServer.LoadGenerator.Measurement;

/// <summary>What the server (CPU seconds, peak RSS, counters) and the generator (CPU seconds) used in a measured window.</summary>
public sealed record ResourceUse(double? ServerCpuSeconds, double? GeneratorCpuSeconds, long? ServerPeakRssBytes, SortedDictionary<string, double> Counters)
{
    /// <summary>CPU seconds of PostgreSQL (all its processes) in the window, when the generator was given its pid.</summary>
    public double? PostgresCpuSeconds { get; init; }
}

/// <summary>Opened at the start of a measured window, closed at its end.</summary>
public sealed class ResourceWindow
{
    private readonly ServerProcessSampler _server;
    private readonly ServerCounters _counters;
    private readonly IReadOnlyDictionary<string, double> _countersBefore;
    private readonly double? _serverCpuBefore;
    private readonly double _generatorCpuBefore;
    private readonly double? _postgresCpuBefore;

    private ResourceWindow(ServerProcessSampler server, ServerCounters counters, IReadOnlyDictionary<string, double> countersBefore)
    {
        _server = server;
        _counters = counters;
        _countersBefore = countersBefore;
        _serverCpuBefore = server.CpuSeconds();
        _generatorCpuBefore = MachineInfo.GeneratorCpuSeconds();
        _postgresCpuBefore = server.Postgres.CpuSeconds();
        server.TakePeakRssBytes();
    }

    public static async Task<ResourceWindow> OpenAsync(ServerProcessSampler server, ServerCounters counters, CancellationToken ct) =>
        new(server, counters, await counters.ReadAsync(ct));

    public async Task<ResourceUse> CloseAsync(CancellationToken ct)
    {
        var serverCpu = _server.CpuSecondsSince(_serverCpuBefore);
        var generatorCpu = Math.Round(MachineInfo.GeneratorCpuSeconds() - _generatorCpuBefore, 2);
        var peakRss = _server.TakePeakRssBytes();
        var postgresCpu = _server.Postgres.CpuSecondsSince(_postgresCpuBefore);
        return new ResourceUse(serverCpu, generatorCpu, peakRss, ServerCounters.Delta(_countersBefore, await _counters.ReadAsync(ct))) { PostgresCpuSeconds = postgresCpu };
    }
}
