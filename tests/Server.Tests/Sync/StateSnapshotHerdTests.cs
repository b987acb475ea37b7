using HomeServer.TestSupport;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Grains.Delivery;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;

namespace HomeServer.Server.Tests.Sync;

/// <summary>
/// The thundering herd of the 2017 incident, scaled down: one unusual state event in a big room, then every member
/// does an initial sync at the same moment. All must get the same state, and the room must build each state version
/// it serves once (shared mode) or never cache (naive mode).
/// </summary>
public abstract class StateSnapshotHerdTests : IAsyncLifetime
{
    private const int Members = 200;
    private const int ExtraStateEvents = 100;

    private StoreBackend _backend = null!;
    private RunningServer _server = null!;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    protected virtual bool Naive => false;

    public async Task InitializeAsync()
    {
        _backend = await CreateBackendAsync();
        _server = await RunningServer.StartAsync([.. _backend.ServerArguments, $"--SyncDelivery:Mode={(Naive ? "naive" : "shared")}"]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Every_client_of_a_simultaneous_initial_sync_gets_the_same_state_and_each_version_is_built_once()
    {
        var creator = await ClientAsync("creator");
        var roomId = await creator.CreateRoomAsync(new { preset = "public_chat" });
        var members = await Task.WhenAll(Enumerable.Range(0, Members).Select(i => ClientAsync($"member{i}")));
        await Parallel.ForEachAsync(members, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (member, _) => await member.JoinAsync(roomId));
        await Parallel.ForEachAsync(Enumerable.Range(0, ExtraStateEvents), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (i, _) => await creator.SetStateAsync(roomId, "org.example.setting", new { value = i }, $"setting-{i}"));
        using var builds = new SnapshotBuildCounter(roomId);
        await creator.SetStateAsync(roomId, "org.example.unusual", new { surprise = true });

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var syncs = members.Select(async member =>
        {
            await start.Task;
            return await GetJsonAsync(member, "/sync");
        }).ToList();
        start.SetResult();
        var responses = await Task.WhenAll(syncs);

        var views = responses.Select(sync => StateAtTimelineEnd(sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId))).ToList();
        Assert.Single(views.Distinct());
        var fullState = (await creator.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state")).EnumerateArray().ToList();
        Assert.Equal(Canonical(fullState), views[0]);
        Assert.Equal(Members + 1 + ExtraStateEvents + 1, fullState.Count(e => e.GetProperty("type").GetString() is "m.room.member" or "org.example.setting" or "org.example.unusual"));

        var stateBodies = await Task.WhenAll(members.Select(member =>
            member.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state")));
        Assert.All(stateBodies, body => Assert.Equal(Canonical(body.EnumerateArray()), views[0]));

        var perVersion = builds.ByVersion();
        if (Naive)
        {
            Assert.Empty(perVersion);
        }
        else
        {
            // The state at the timeline's start (before the unusual event) and the current one (summary, /state).
            Assert.Equal(2, perVersion.Count);
            Assert.All(perVersion, pair => Assert.Equal(1, pair.Value));
        }
    }

    [Fact]
    public async Task Lazy_loading_members_gets_only_the_senders_own_and_hero_members_from_the_same_snapshot()
    {
        var creator = await ClientAsync("creator");
        var roomId = await creator.CreateRoomAsync(new { preset = "public_chat" });
        var members = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => ClientAsync($"member{i}")));
        foreach (var member in members) await member.JoinAsync(roomId);
        await creator.SetStateAsync(roomId, "org.example.unusual", new { surprise = true });
        using var builds = new SnapshotBuildCounter(roomId);

        var reader = members[0];
        var full = (await GetJsonAsync(reader, "/sync")).GetProperty("rooms").GetProperty("join").GetProperty(roomId);
        var filter = Uri.EscapeDataString("{\"room\":{\"state\":{\"lazy_load_members\":true},\"timeline\":{\"limit\":3}}}");
        var lazy = (await GetJsonAsync(await ClientAsync("lazy", reader), $"/sync?filter={filter}")).GetProperty("rooms").GetProperty("join").GetProperty(roomId);

        var senders = lazy.GetProperty("timeline").GetProperty("events").EnumerateArray().Select(e => e.GetProperty("sender").GetString()!);
        var heroes = lazy.GetProperty("summary").GetProperty("m.heroes").EnumerateArray().Select(h => h.GetString()!);
        var lazyMembers = StateEvents(lazy).Where(e => e.Type == "m.room.member").Select(e => e.StateKey).ToHashSet();
        Assert.Contains(reader.UserId, lazyMembers);
        Assert.Subset(senders.Concat(heroes).Append(reader.UserId).ToHashSet(), lazyMembers);
        Assert.True(lazyMembers.Count < StateEvents(full).Count(e => e.Type == "m.room.member"));
        Assert.Equal(
            StateEvents(full).Where(e => e.Type != "m.room.member").Select(e => e.EventId).Order(),
            StateEvents(lazy).Where(e => e.Type != "m.room.member").Select(e => e.EventId).Order());
        if (!Naive) Assert.All(builds.ByVersion(), pair => Assert.Equal(1, pair.Value));
    }

    [Fact]
    public async Task A_full_state_sync_after_new_messages_shares_the_snapshot_of_its_state_version()
    {
        var creator = await ClientAsync("creator");
        var roomId = await creator.CreateRoomAsync(new { preset = "public_chat" });
        var members = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => ClientAsync($"member{i}")));
        foreach (var member in members) await member.JoinAsync(roomId);
        using var builds = new SnapshotBuildCounter(roomId);
        var reader = members[0];
        var initial = await GetJsonAsync(reader, "/sync");
        var afterInitial = builds.ByVersion();
        await creator.SendTextAsync(roomId, "one");
        await creator.SendTextAsync(roomId, "two");

        var since = Uri.EscapeDataString(initial.GetProperty("next_batch").GetString()!);
        var full = (await GetJsonAsync(reader, $"/sync?since={since}&full_state=true")).GetProperty("rooms").GetProperty("join").GetProperty(roomId);

        var fullState = (await creator.OkAsync(HttpMethod.Get, $"/rooms/{RoomsClient.Escape(roomId)}/state")).EnumerateArray();
        Assert.Equal(Canonical(fullState), StateAtTimelineEnd(full));
        Assert.Contains(StateEvents(full), e => e.Type == "m.room.create");
        if (!Naive)
        {
            // Messages do not change the state: the timeline's new start maps to the version already built.
            Assert.NotEmpty(afterInitial);
            Assert.Equal(afterInitial, builds.ByVersion());
        }
    }

    private async Task<RoomsClient> ClientAsync(string name, RoomsClient? sameUser = null)
    {
        var user = sameUser is null
            ? await TestUsers.CreateAsync(_server, name)
            : await TestUsers.AddDeviceAsync(_server, sameUser.User, $"DEVICE{Guid.NewGuid():N}"[..16]);
        return new RoomsClient(_server.Client, user);
    }

    private async Task<JsonElement> GetJsonAsync(RoomsClient client, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_matrix/client/v3" + pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", client.User.AccessToken);
        using var response = await _server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{pathAndQuery}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static List<(string Type, string StateKey, string EventId)> StateEvents(JsonElement room) =>
        room.GetProperty("state").GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("state_key").GetString()!, e.GetProperty("event_id").GetString()!))
            .ToList();

    /// <summary>The room state a client holds after a sync: the state section, then the timeline's state events in order.</summary>
    private static string StateAtTimelineEnd(JsonElement room)
    {
        var state = StateEvents(room).ToDictionary(e => (e.Type, e.StateKey), e => e.EventId);
        foreach (var e in room.GetProperty("timeline").GetProperty("events").EnumerateArray())
        {
            if (e.TryGetProperty("state_key", out var stateKey))
                state[(e.GetProperty("type").GetString()!, stateKey.GetString()!)] = e.GetProperty("event_id").GetString()!;
        }
        return Canonical(state);
    }

    private static string Canonical(IEnumerable<JsonElement> stateEvents) =>
        Canonical(stateEvents.ToDictionary(
            e => (e.GetProperty("type").GetString()!, e.GetProperty("state_key").GetString()!), e => e.GetProperty("event_id").GetString()!));

    private static string Canonical(Dictionary<(string Type, string StateKey), string> state) =>
        string.Join("\n", state.OrderBy(p => p.Key.Type, StringComparer.Ordinal).ThenBy(p => p.Key.StateKey, StringComparer.Ordinal)
            .Select(p => $"{p.Key.Type}\t{p.Key.StateKey}\t{p.Value}"));
}

public sealed class SqliteStateSnapshotHerdTests : StateSnapshotHerdTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresStateSnapshotHerdTests : StateSnapshotHerdTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

public sealed class SqliteNaiveStateSnapshotHerdTests : StateSnapshotHerdTests
{
    protected override bool Naive => true;

    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresNaiveStateSnapshotHerdTests : StateSnapshotHerdTests
{
    protected override bool Naive => true;

    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
