using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;

namespace HomeServer.LoadGenerator.Scenarios;

/// <summary>What every scenario gets: the API client, the server process sampler and the seeding settings.</summary>
public sealed class BenchContext(MatrixApi api, ServerProcessSampler server, int seedConcurrency)
{
    public MatrixApi Api { get; } = api;

    public ServerProcessSampler Server { get; } = server;

    public int SeedConcurrency { get; } = seedConcurrency;

    /// <summary>Makes the localparts of this run unique, so runs can share a database.</summary>
    public string RunTag { get; } = "b" + Guid.NewGuid().ToString("N")[..8];

    public string Localpart(string role, int index) => $"{RunTag}-{role}{index}";

    public Task<User> RegisterAdminAsync(CancellationToken ct) =>
        Phases.RetryAsync(() => Api.RegisterAsync(Localpart("admin", 0), admin: true, ct), ct);

    public ServerCounters CountersOf(User admin) => new(Api, admin);


    public static double? Mib(long? bytes) => bytes is null ? null : Math.Round(bytes.Value / 1048576.0, 1);
}
