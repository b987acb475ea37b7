using System.Text.Json;

namespace HomeServer.LoadGenerator.Scenarios;

/// <summary>
/// Seeded users and rooms kept in a file, so that later runs against the same database (a restarted server, the
/// other delivery mode, a newer build) skip the seeding. Without a path the seeding always runs.
/// </summary>
public static class Fixture
{
    public static async Task<T> LoadOrSeedAsync<T>(string? path, Func<Task<T>> seed, CancellationToken ct)
    {
        if (path is not null && File.Exists(path)) return JsonSerializer.Deserialize<T>(await File.ReadAllTextAsync(path, ct))!;
        var seeded = await seed();
        if (path is not null) await File.WriteAllTextAsync(path, JsonSerializer.Serialize(seeded), ct);
        return seeded;
    }
}
