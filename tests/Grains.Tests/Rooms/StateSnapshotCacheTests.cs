using System.Text.Json;
using HomeServer.Grains.Tests.Federation;
using System.Text.Json.Nodes;
using HomeServer.Grains.Delivery;
using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms;
using HomeServer.Grains.Sync;
using HomeServer.Grains.Sync.Filtering;
using HomeServer.Grains.Sync.Json;
using HomeServer.Storage;
using HomeServer.Storage.Sqlite;
using HomeServer.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>The room's pre-serialised state snapshots, on a real room written through group commit into SQLite.</summary>
public sealed class StateSnapshotCacheTests : IAsyncLifetime
{
    private const string Carol = "@carol:test";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "homeserver-grain-tests", Guid.NewGuid().ToString("N"));
    private readonly string _roomId = $"!{Guid.NewGuid():N}:test";
    private IHomeServerStore _store = null!;
    private RoomWriter _writer = null!;
    private SnapshotBuildCounter _builds = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _store = await SqliteStore.OpenAsync(SqliteStore.ConnectionStringForDataDirectory(_directory), CancellationToken.None);
        await _store.Rooms.CreateRoomAsync(new NewRoom(_roomId, "10", Alice, Clock()), CancellationToken.None);
        _writer = new RoomWriter(_store, _roomId, Clock, TestSigningKeys.For("test"), _ => Task.CompletedTask, NullLogger.Instance);
        await _writer.LoadAsync(CancellationToken.None);
        var creation = PublicRoomPlan();
        await _writer.SubmitAsync(builder =>
        {
            foreach (var spec in creation.Events) builder.Add(spec);
            return null;
        });
        _builds = new SnapshotBuildCounter(_roomId);
    }

    public async Task DisposeAsync()
    {
        _builds.Dispose();
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Task<string?> WriteAsync(EventSpec spec) => _writer.SubmitAsync(builder => builder.Add(spec).EventId.Value);

    private Task<string?> SetNameAsync(string name) =>
        WriteAsync(EventSpec.State("m.room.name", "", Alice, new JsonObject { ["name"] = name }));

    /// <summary>The room as its grain would see it now: the current snapshot and the history read from the store.</summary>
    private async Task<(RoomSnapshot Room, RoomHistory History)> CurrentAsync()
    {
        var room = _writer.Current!;
        var events = await _store.Events.GetRoomEventsAsync(_roomId, 0, Direction.Forward, 1000, CancellationToken.None);
        return (room, RoomHistory.Empty.Extend(events));
    }

    private StateSnapshotCache NewCache(bool naive = false) => new(_store, naive);

    /// <summary>content.name of the m.room.name event; null when the event is redacted or absent.</summary>
    private static string? Name(StateSnapshot snapshot) =>
        snapshot.Events.Where(e => e.Type == "m.room.name")
            .Select(e => JsonDocument.Parse(e.Json).RootElement.GetProperty("content").TryGetProperty("name", out var name) ? name.GetString() : null)
            .SingleOrDefault();

    private static HashSet<string> Members(IEnumerable<SyncStateEvent> events) =>
        events.Where(e => e.Type == EventTypes.Member).Select(e => e.StateKey).ToHashSet();

    [Fact]
    public async Task Two_hundred_concurrent_readers_of_one_version_share_a_single_build()
    {
        await WriteAsync(Join(Bob));
        await WriteAsync(Message(Bob, "one"));
        await WriteAsync(Message(Bob, "two"));
        var (room, history) = await CurrentAsync();
        var cache = NewCache();

        // Positions between the last state event and the newest message all have the same state.
        var snapshots = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Task.Run(() => cache.AfterAsync(room, history, room.LastPosition - i % 3))));

        Assert.Single(snapshots.Distinct());
        Assert.Equal(1, _builds.Count(snapshots[0].Version.ToString()));
        Assert.Equal(1, _builds.Total);
        Assert.Equal(room.LastPosition - 2, snapshots[0].Version.StateEventPosition);
    }

    [Fact]
    public async Task A_new_state_event_makes_a_new_version_and_the_previous_one_stays_readable_for_older_positions()
    {
        await SetNameAsync("first");
        var (before, beforeHistory) = await CurrentAsync();
        var cache = NewCache();
        var first = await cache.AfterAsync(before, beforeHistory, before.LastPosition);

        await SetNameAsync("second");
        var (after, afterHistory) = await CurrentAsync();
        var second = await cache.AfterAsync(after, afterHistory, after.LastPosition);
        var older = await cache.AfterAsync(after, afterHistory, after.LastPosition - 1);

        Assert.Equal("first", Name(first));
        Assert.Equal("second", Name(second));
        Assert.NotEqual(first.Version, second.Version);
        Assert.Same(first, older);
        Assert.Equal(2, _builds.Total);
    }

    [Fact]
    public async Task An_older_version_is_built_from_the_room_history()
    {
        await SetNameAsync("old name");
        var beforeBob = _writer.Current!.LastPosition;
        await WriteAsync(Join(Bob));
        await SetNameAsync("new name");
        await WriteAsync(Join(Carol));
        var (room, history) = await CurrentAsync();

        var old = await NewCache().AfterAsync(room, history, beforeBob);

        Assert.Equal("old name", Name(old));
        Assert.Equal([Alice], Members(old.Events));
        var expected = await HistoricalState.AtAsync(_store, room, beforeBob, CancellationToken.None);
        Assert.Equal(expected.Values.Select(p => p.EventId.Value).Order(), old.Events.Select(e => e.EventId).Order());
        Assert.Equal(JsonSerializer.Serialize(old.Events.Select(e => e.EventId)),
            JsonSerializer.Serialize(JsonDocument.Parse(old.StateJson).RootElement.EnumerateArray().Select(e => e.GetProperty("event_id").GetString())));
    }

    [Fact]
    public async Task Lazy_loading_picks_the_asked_members_from_the_cached_fragments()
    {
        await WriteAsync(Join(Bob));
        await WriteAsync(Join(Carol));
        var (room, history) = await CurrentAsync();
        var snapshot = await NewCache().AfterAsync(room, history, room.LastPosition);

        var selected = snapshot.WithMembersOf([Bob, "@nobody:test", Bob]);

        Assert.Equal([Bob], Members(selected));
        Assert.Equal(snapshot.Events.Where(e => e.Type != EventTypes.Member).Select(e => e.EventId),
            selected.Where(e => e.Type != EventTypes.Member).Select(e => e.EventId));
        Assert.Same(snapshot.SyncEvents.Single(e => e.StateKey == Bob), selected.Single(e => e.StateKey == Bob));
        Assert.Equal([Bob, Carol], snapshot.HeroesFor(Alice));
        Assert.Equal(3, snapshot.JoinedMemberCount);
    }

    [Fact]
    public async Task Fragments_are_client_events_without_age_and_members_json_filters_by_membership()
    {
        await WriteAsync(Join(Bob));
        await WriteAsync(EventSpec.Member(Carol, Alice, new JsonObject { ["membership"] = Membership.Invite }));
        var (room, history) = await CurrentAsync();
        var snapshot = await NewCache().AfterAsync(room, history, room.LastPosition);

        var bob = JsonDocument.Parse(snapshot.Events.Single(e => e.StateKey == Bob).Json).RootElement;
        Assert.Equal(_roomId, bob.GetProperty("room_id").GetString());
        foreach (var federationOnly in new[] { "auth_events", "prev_events", "depth", "hashes", "signatures" })
            Assert.False(bob.TryGetProperty(federationOnly, out _), federationOnly);
        Assert.False(bob.TryGetProperty("unsigned", out var unsigned) && unsigned.TryGetProperty("age", out _));
        // /sync's copy leaves out the room_id (the enclosing room names it), and is otherwise the same event.
        var bobInSync = JsonDocument.Parse(snapshot.SyncEvents.Single(e => e.StateKey == Bob).Json).RootElement;
        Assert.False(bobInSync.TryGetProperty("room_id", out _));
        Assert.Equal(bob.GetProperty("event_id").GetString(), bobInSync.GetProperty("event_id").GetString());
        Assert.Equal(bob.GetProperty("content").GetRawText(), bobInSync.GetProperty("content").GetRawText());
        var invited = JsonDocument.Parse(snapshot.MembersJson(membership => membership == Membership.Invite)).RootElement;
        Assert.Equal([Carol], invited.GetProperty("chunk").EnumerateArray().Select(e => e.GetProperty("state_key").GetString()));
    }

    [Fact]
    public async Task A_redaction_of_a_state_event_makes_a_new_version()
    {
        var nameId = await SetNameAsync("to be redacted");
        var (before, beforeHistory) = await CurrentAsync();
        var cache = NewCache();
        var unredacted = await cache.AfterAsync(before, beforeHistory, before.LastPosition);
        var original = before.Get("m.room.name")!;

        await WriteAsync(new EventSpec(EventTypes.Redaction, null, Alice, new JsonObject { ["redacts"] = nameId })
        {
            RedactedOriginal = original,
        });
        var (after, afterHistory) = await CurrentAsync();
        var redacted = await cache.AfterAsync(after, afterHistory, after.LastPosition);

        Assert.Equal("to be redacted", Name(unredacted));
        Assert.NotEqual(unredacted.Version, redacted.Version);
        Assert.Equal(unredacted.Version.StateEventPosition, redacted.Version.StateEventPosition);
        Assert.Null(Name(redacted));
    }

    [Fact]
    public async Task Naive_mode_builds_for_every_request_and_counts_no_cached_build()
    {
        var (room, history) = await CurrentAsync();
        var cache = NewCache(naive: true);

        var first = await cache.AfterAsync(room, history, room.LastPosition);
        var second = await cache.AfterAsync(room, history, room.LastPosition);

        Assert.NotSame(first, second);
        Assert.Equal(first.StateJson, second.StateJson);
        Assert.Equal(0, _builds.Total);
    }

    [Fact]
    public async Task Only_the_most_recently_used_versions_are_kept()
    {
        var cache = NewCache();
        var versions = new List<StateSnapshot>();
        for (var i = 0; i < 6; i++)
        {
            await SetNameAsync($"name {i}");
            var (room, history) = await CurrentAsync();
            versions.Add(await cache.AfterAsync(room, history, room.LastPosition));
        }
        var (now, nowHistory) = await CurrentAsync();
        var newest = await cache.AfterAsync(now, nowHistory, now.LastPosition);
        var oldest = await cache.AfterAsync(now, nowHistory, versions[0].Version.StateEventPosition);

        Assert.Same(versions[^1], newest);
        Assert.NotSame(versions[0], oldest);
        Assert.Equal(versions[0].StateJson, oldest.StateJson);
        Assert.Equal(2, _builds.Count(versions[0].Version.ToString()));
    }

    [Fact]
    public async Task A_sync_state_section_crosses_the_wire_between_silos_unchanged()
    {
        await WriteAsync(Join(Bob));
        var (room, history) = await CurrentAsync();
        var snapshot = await NewCache().AfterAsync(room, history, room.LastPosition);
        var section = new SyncStateSection(snapshot.Version.ToString(), snapshot.Events, snapshot.HeroesFor(Alice), 2, 0);
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();

        var received = serializer.Deserialize<SyncStateSection>(serializer.SerializeToArray(section))!;

        Assert.Equal(section.StateVersion, received.StateVersion);
        Assert.Equal(section.Heroes, received.Heroes);
        Assert.Equal(section.Events.Select(e => (e.EventId, e.Type, e.StateKey, e.Sender, e.OriginServerTs, e.Membership)),
            received.Events.Select(e => (e.EventId, e.Type, e.StateKey, e.Sender, e.OriginServerTs, e.Membership)));
        Assert.Equal(section.Events.Select(e => Convert.ToHexString(e.Json)), received.Events.Select(e => Convert.ToHexString(e.Json)));
    }

    [Fact]
    public async Task The_whole_sync_state_is_one_shared_array_per_version_that_stays_on_its_silo()
    {
        await WriteAsync(Join(Bob));
        var (room, history) = await CurrentAsync();
        var snapshot = await NewCache().AfterAsync(room, history, room.LastPosition);

        Assert.Same(snapshot.SyncEventsJson, snapshot.SyncEventsJson);
        Assert.Equal(string.Join(",", snapshot.SyncEvents.Select(e => System.Text.Encoding.UTF8.GetString(e.Json))),
            System.Text.Encoding.UTF8.GetString(snapshot.SyncEventsJson));

        var section = new SyncStateSection(snapshot.Version.ToString(), snapshot.SyncEvents, snapshot.HeroesFor(Alice), 2, 0)
        {
            SharedEventsJson = snapshot.SyncEventsJson,
        };
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        // Within a silo a call's immutable result is handed over as it is, shared array included.
        Assert.Same(section, services.GetRequiredService<DeepCopier>().Copy(section));
        // Across silos the events are copied and the shared array stays behind: the receiver copies the events' JSON.
        var serializer = services.GetRequiredService<Serializer>();
        var received = serializer.Deserialize<SyncStateSection>(serializer.SerializeToArray(section))!;
        Assert.Null(received.SharedEventsJson);
        Assert.Equal(section.Events.Select(e => Convert.ToHexString(e.Json)), received.Events.Select(e => Convert.ToHexString(e.Json)));
    }

    [Fact]
    public async Task A_sync_response_referencing_the_shared_state_has_the_bytes_of_one_that_copies_it()
    {
        await WriteAsync(Join(Bob));
        await WriteAsync(Join(Carol));
        var (room, history) = await CurrentAsync();
        var snapshot = await NewCache().AfterAsync(room, history, room.LastPosition);
        var shared = snapshot.SyncEventsJson;

        var copied = WriteInitialSync(snapshot, sharedJson: null);
        var referenced = WriteInitialSync(snapshot, shared);

        Assert.Equal(System.Text.Encoding.UTF8.GetString(copied.ToArray()), System.Text.Encoding.UTF8.GetString(referenced.ToArray()));
        Assert.Equal(copied.Length, referenced.Length);
        Assert.Contains(referenced.Segments, segment => ReferenceEquals(segment, shared));
        Assert.DoesNotContain(copied.Segments, segment => ReferenceEquals(segment, shared));
        var state = JsonDocument.Parse(referenced.ToArray()).RootElement.GetProperty("rooms").GetProperty("join").GetProperty(_roomId)
            .GetProperty("state").GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()).ToList();
        Assert.Equal(snapshot.SyncEvents.Select(e => e.EventId), state);

        // event_fields rewrites every event: the shared bytes are not what that client gets.
        var fields = SyncFilterParser.Parse("{\"event_fields\":[\"type\",\"state_key\"]}"u8);
        var trimmed = WriteInitialSync(snapshot, shared, fields);
        Assert.DoesNotContain(trimmed.Segments, segment => ReferenceEquals(segment, shared));
        Assert.Equal(WriteInitialSync(snapshot, sharedJson: null, fields).ToArray(), trimmed.ToArray());
        Assert.All(JsonDocument.Parse(trimmed.ToArray()).RootElement.GetProperty("rooms").GetProperty("join").GetProperty(_roomId)
            .GetProperty("state").GetProperty("events").EnumerateArray(), e => Assert.False(e.TryGetProperty("event_id", out _)));
    }

    [Fact]
    public void A_segmented_sync_response_crosses_the_wire_as_the_same_bytes()
    {
        var shared = "{\"type\":\"m.room.create\"},{\"type\":\"m.room.name\"}"u8.ToArray();
        var response = new SyncResponse(new SegmentedJson(["{\"state\":["u8.ToArray(), shared, "]}"u8.ToArray()]), "s1", IsEmpty: false);
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();

        var received = serializer.Deserialize<SyncResponse>(serializer.SerializeToArray(response))!;

        Assert.Equal(response.Body.ToArray(), received.Body.ToArray());
        Assert.Equal(response.Body.Length, received.Body.Length);
        Assert.Equal("s1", received.NextBatch);
        Assert.Same(response, services.GetRequiredService<DeepCopier>().Copy(response));
    }

    /// <summary>An initial sync's response for the snapshot's whole state, written the way the sync grain writes it.</summary>
    private SegmentedJson WriteInitialSync(StateSnapshot snapshot, byte[]? sharedJson, SyncFilter? filter = null)
    {
        var result = new SyncResult(new SyncToken(200, 0, 0, 1, 0));
        var joined = new JoinedRoomResult(_roomId)
        {
            Forced = true,
            Summary = new RoomSummary(snapshot.HeroesFor(Alice), snapshot.JoinedMemberCount, snapshot.InvitedMemberCount),
            Timeline = new TimelineResult([], Limited: false, PrevBatch: "t1"),
            StateIsPreSerialised = true,
            SharedStateJson = sharedJson,
        };
        joined.State.AddRange(snapshot.SyncEvents.Select(e =>
            new StoredEvent(_roomId, 0, 0, e.EventId, e.Type, e.StateKey, e.Sender, e.OriginServerTs, e.Membership, false, e.Json)));
        result.Joined.Add(joined);
        return SyncResponseWriter.Write(result, Alice, "PHONE", 1_700_000_005_000, filter: filter);
    }
}
