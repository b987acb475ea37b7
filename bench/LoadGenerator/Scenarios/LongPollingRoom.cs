using System.Text.Json.Nodes;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using Spectre.Console;

namespace HomeServer.LoadGenerator.Scenarios;

/// <summary>
/// One room whose members all long-poll /sync, as the fanout and drain scenarios need: seeded (admin, room, members,
/// joins), then connected (initial syncs, then a poll loop per member feeding the <see cref="DeliveryTracker"/>).
/// </summary>
public sealed class LongPollingRoom
{
    // What a client such as Element asks for: members loaded lazily, nothing the benchmark does not read.
    private const string Filter = """{"room":{"state":{"lazy_load_members":true},"timeline":{"limit":50},"ephemeral":{"types":[]},"account_data":{"types":[]}},"presence":{"types":[]},"account_data":{"types":[]}}""";

    private readonly BenchContext _bench;
    private readonly Lock _lock = new();
    private readonly List<long> _pollErrorTimestamps = [];
    private readonly CancellationTokenSource _stopPolling = new();
    private Task[] _polls = [];

    private LongPollingRoom(BenchContext bench, User admin, string roomId, User[] members, int capacity)
    {
        _bench = bench;
        Admin = admin;
        RoomId = roomId;
        Clients = members.Select(member => new SyncClient(bench.Api, member, Filter)).ToArray();
        Tracker = new DeliveryTracker(members.Length, capacity);
    }

    public User Admin { get; }

    public string RoomId { get; }

    public SyncClient[] Clients { get; }

    public DeliveryTracker Tracker { get; }

    public long[] PollErrorTimestamps()
    {
        lock (_lock) return [.. _pollErrorTimestamps];
    }

    /// <summary>The seeded room of an earlier run, to skip seeding against the same database.</summary>
    public sealed record Seeded(User Admin, string RoomId, User[] Members);

    public static async Task<LongPollingRoom> SeedAsync(BenchContext bench, ProgressContext progress, int members, int capacity, string? fixture, CancellationToken ct)
    {
        var seeded = await Fixture.LoadOrSeedAsync(fixture, async () =>
        {
            var api = bench.Api;
            var admin = await bench.RegisterAdminAsync(ct);
            var room = await api.CreateRoomAsync(admin, new JsonObject { ["preset"] = "public_chat", ["name"] = "load" }, ct);
            var users = await progress.ForEachAsync($"register {members} members", Enumerable.Range(0, members).ToArray(), bench.SeedConcurrency,
                (i, _, token) => api.RegisterAsync(bench.Localpart("m", i), admin: false, token), ct);
            await progress.ForEachAsync("join the room", users, bench.SeedConcurrency, (user, _, token) => api.JoinAsync(user, room, token), ct);
            return new Seeded(admin, room, users);
        }, ct);
        if (seeded.Members.Length != members)
            throw new InvalidOperationException($"The fixture has {seeded.Members.Length} members; {members} were asked for.");
        return new LongPollingRoom(bench, seeded.Admin, seeded.RoomId, seeded.Members, capacity);
    }

    /// <summary>Initial syncs (not measured), then every member's long-poll loop.</summary>
    public async Task ConnectAsync(ProgressContext progress, int pollTimeoutMs, CancellationToken ct)
    {
        await progress.ForEachAsync("initial syncs", Clients, _bench.SeedConcurrency, (client, _, token) => client.InitialSyncAsync(token), ct);
        _polls = Clients.Select((client, c) => Task.Run(() => client.PollAsync(pollTimeoutMs,
            (ids, arrived) => Tracker.Received(c, ids, arrived),
            failedAt => { lock (_lock) _pollErrorTimestamps.Add(failedAt); },
            _stopPolling.Token))).ToArray();
    }

    public OpenLoopSender Sender(double rate) => new(_bench.Api, Admin, RoomId, _bench.RunTag, rate, Tracker);

    public async Task StopAsync()
    {
        await _stopPolling.CancelAsync();
        await Task.WhenAll(_polls);
    }
}
