using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace HomeServer.Grains.Tests.Delivery;

/// <summary>
/// Runs a <see cref="SyncDeliveryPlan"/> against real grains on a three-silo cluster over a real store, checking every
/// sync response as it arrives (<see cref="DeliveryChecker"/>), then lets every device catch up and checks that each
/// one got to the end of each of its rooms and that every sent message is in its room exactly once.
/// </summary>
public sealed class SyncDeliveryRun
{
    private const int Silos = 3;

    /// <summary>How long a client keeps retrying a call the cluster answers as unavailable (silo gone, call timed out).</summary>
    private static readonly TimeSpan RetryWindow = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan CatchUpDeadline = TimeSpan.FromSeconds(20);

    private static readonly LocalServer Server = new("test");

    private readonly SyncDeliveryPlan _plan;
    private readonly GrainTestCluster _cluster;
    private readonly RoomHistories _histories;
    private readonly DeliveryChecker _checker;
    private readonly SyncChain?[,] _devices;
    private readonly List<string>[] _issuedTokens;
    private readonly ConcurrentDictionary<string, (string RoomId, string EventId)> _sent = new(StringComparer.Ordinal);
    private int _messages;
    private int _retries;

    private SyncDeliveryRun(SyncDeliveryPlan plan, GrainTestCluster cluster, RoomHistories histories)
    {
        _plan = plan;
        _cluster = cluster;
        _histories = histories;
        _checker = new DeliveryChecker(histories);
        _devices = new SyncChain?[plan.Users, plan.DevicesPerUser];
        _issuedTokens = Enumerable.Range(0, plan.Users).Select(_ => new List<string>()).ToArray();
    }

    public static async Task<RunOutcome> ExecuteAsync(SyncDeliveryPlan plan, StoreBackend backend)
    {
        var clock = Stopwatch.StartNew();
        await using var store = await TestStore.OpenAsync(backend);
        await using var cluster = await GrainTestCluster.StartAsync(Silos, store.Store, Server);
        var run = new SyncDeliveryRun(plan, cluster, new RoomHistories(store.Store));
        await run.SetUpRoomsAsync();
        foreach (var wave in plan.Waves) await Task.WhenAll(wave.Select(run.RunAsync));
        await run.CatchUpAsync();
        await run.CheckEverySendIsInItsRoomOnceAsync();
        return new RunOutcome(run._checker.Violations.ToList(), run._checker.Statistics, run._retries, clock.Elapsed);
    }

    private static string UserId(int user) => Server.UserId($"user{user}");

    private static string RoomId(int room) => $"!room{room}:{Server.Name}";

    private static string DeviceId(int device) => $"DEVICE{device}";

    private IGrainFactory Grains => _cluster.Grains;

    private async Task SetUpRoomsAsync()
    {
        for (var room = 0; room < _plan.Rooms; room++)
        {
            var request = new CreateRoomRequest(UserId(SyncDeliveryPlan.CreatorOf(room))) { Preset = "public_chat" };
            await Grains.GetGrain<IRoomGrain>(RoomId(room)).CreateAsync(request);
        }
        foreach (var (room, user) in _plan.InitialMembers) await JoinAsync(user, room);
    }

    private Task RunAsync(PlannedStep step) => step switch
    {
        SendStep send => Task.WhenAll(Enumerable.Range(0, send.Count).Select(_ => SendAsync(send.Room, send.Sender))),
        SyncStep sync => SyncAsync(sync),
        JoinStep join => JoinAsync(join.User, join.Room),
        SiloFaultStep fault => InjectAsync(fault),
        _ => throw new ArgumentOutOfRangeException(nameof(step)),
    };

    private Task JoinAsync(int user, int room) =>
        RetryAsync(() => Grains.GetGrain<IRoomGrain>(RoomId(room)).JoinAsync(UserId(user), null));

    /// <summary>One message with a transaction id; a retry after a lost answer reuses it, as a client does.</summary>
    private async Task SendAsync(int room, int sender)
    {
        var number = Interlocked.Increment(ref _messages);
        var body = $"message {number}";
        var content = JsonSerializer.SerializeToElement(new { msgtype = "m.text", body });
        var request = new MessageRequest(UserId(sender), "SENDER", "m.room.message", content, $"txn{number}");
        var eventId = await RetryAsync(() => Grains.GetGrain<IRoomGrain>(RoomId(room)).SendMessageAsync(request));
        _sent[body] = (RoomId(room), eventId);
    }

    private async Task SyncAsync(SyncStep step)
    {
        var chain = ChainFor(step);
        var response = await SyncOnceAsync(chain, step.Limit, TimeSpan.FromMilliseconds(step.TimeoutMilliseconds));
        lock (_issuedTokens[step.User]) _issuedTokens[step.User].Add(response.NextBatch);
    }

    /// <summary>
    /// The device's chain for this request: its current one, or a new chain from an older token the user was issued
    /// (a retry, or another device's token) or from an initial sync.
    /// </summary>
    private SyncChain ChainFor(SyncStep step)
    {
        var current = _devices[step.User, step.Device];
        if (step.Since == SinceChoice.Continue && current is not null) return current;
        string? since = null;
        if (step.Since == SinceChoice.Older)
        {
            var issued = _issuedTokens[step.User];
            lock (issued)
            {
                if (issued.Count > 0) since = issued[(int)(step.OlderToken * issued.Count)];
            }
        }
        return _devices[step.User, step.Device] = _checker.StartChain(UserId(step.User), DeviceId(step.Device), since);
    }

    private async Task<ClientSyncResponse> SyncOnceAsync(SyncChain chain, int? limit, TimeSpan timeout)
    {
        var filter = limit is null ? null : "{\"room\":{\"timeline\":{\"limit\":" + limit + "}}}";
        var request = new SyncRequest(chain.DeviceId, chain.Since, filter, FullState: false, timeout);
        var answer = await RetryAsync(() => Grains.GetGrain<ISyncGrain>(chain.UserId).SyncAsync(request, CancellationToken.None));
        var response = ClientSyncResponse.Parse(answer.Body.ToArray());
        await _checker.CheckAsync(chain, limit ?? HomeServer.Grains.Sync.Filtering.SyncFilter.DefaultTimelineLimit, response);
        return response;
    }

    private Task InjectAsync(SiloFaultStep step) => step.Fault switch
    {
        SiloFault.Kill => _cluster.KillAndReplaceSiloAsync(step.Silo),
        SiloFault.Restart => _cluster.RestartSiloAsync(step.Silo),
        _ => _cluster.StopAndReplaceSiloAsync(step.Silo),
    };

    /// <summary>
    /// Once the cluster is whole again, one more message in each room, then every device syncs (default filter) until it
    /// has reached the end of each room its user is in: an event that never arrives is as wrong as a duplicate.
    /// </summary>
    private async Task CatchUpAsync()
    {
        await _cluster.WaitUntilStableAsync();
        for (var room = 0; room < _plan.Rooms; room++) await SendAsync(room, SyncDeliveryPlan.CreatorOf(room));
        var devices = from user in Enumerable.Range(0, _plan.Users) from device in Enumerable.Range(0, _plan.DevicesPerUser) select (user, device);
        await Task.WhenAll(devices.Select(d => CatchUpAsync(d.user, d.device)));
    }

    private async Task CatchUpAsync(int user, int device)
    {
        var chain = _devices[user, device] ??= _checker.StartChain(UserId(user), DeviceId(device), since: null);
        var rooms = Enumerable.Range(0, _plan.Rooms).Where(room => _plan.IsMemberAtEnd(room, user)).Select(RoomId).ToList();
        var ends = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var roomId in rooms) ends[roomId] = await _histories.LatestPositionAsync(roomId);
        var clock = Stopwatch.StartNew();
        while (rooms.Any(roomId => chain.Cursors.GetValueOrDefault(roomId) < ends[roomId]))
        {
            if (clock.Elapsed > CatchUpDeadline)
            {
                var behind = rooms.Where(roomId => chain.Cursors.GetValueOrDefault(roomId) < ends[roomId])
                    .Select(roomId => $"{roomId} at {chain.Cursors.GetValueOrDefault(roomId)} of {ends[roomId]}");
                _checker.Violation("never caught up", $"{chain}: never caught up within {CatchUpDeadline.TotalSeconds} s: {string.Join(", ", behind)}");
                return;
            }
            await SyncOnceAsync(chain, limit: null, TimeSpan.FromMilliseconds(500));
        }
    }

    private async Task CheckEverySendIsInItsRoomOnceAsync()
    {
        var bodies = new Dictionary<string, List<(string RoomId, string EventId)>>(StringComparer.Ordinal);
        for (var room = 0; room < _plan.Rooms; room++)
        {
            foreach (var storedEvent in await _histories.ReadAsync(RoomId(room)))
            {
                if (storedEvent.Type != "m.room.message") continue;
                var body = JsonDocument.Parse(storedEvent.Json).RootElement.GetProperty("content").GetProperty("body").GetString()!;
                if (!bodies.TryGetValue(body, out var list)) bodies[body] = list = [];
                list.Add((RoomId(room), storedEvent.EventId));
            }
        }
        foreach (var (body, copies) in bodies.Where(pair => pair.Value.Count > 1))
            _checker.Violation("duplicate in history", $"'{body}' is in the history {copies.Count} times: {string.Join(", ", copies)}");
        foreach (var (body, sent) in _sent)
        {
            if (!bodies.TryGetValue(body, out var stored) || !stored.Contains(sent))
                _checker.Violation("send lost", $"'{body}' was sent as {sent.EventId} in {sent.RoomId} but the history has {(stored is null ? "nothing" : string.Join(", ", stored))}");
        }
    }

    /// <summary>Retries what the cluster answers as unavailable, as clients retry a 503; anything else fails the run.</summary>
    private async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e is OrleansMessageRejectionException or ConnectionFailedException or RoomBusyException or TimeoutException or StoreUnavailableError
                                      && clock.Elapsed < RetryWindow)
            {
                Interlocked.Increment(ref _retries);
                await Task.Delay(100);
            }
        }
    }

    private Task RetryAsync(Func<Task> call) => RetryAsync(async () =>
    {
        await call();
        return true;
    });
}

public sealed record RunOutcome(IReadOnlyList<Violation> Violations, DeliveryStatistics Statistics, int Retries, TimeSpan Elapsed);
