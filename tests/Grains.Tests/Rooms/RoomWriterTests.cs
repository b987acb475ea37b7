using System.Collections.Concurrent;
using HomeServer.Grains.Tests.Federation;
using System.Text.Json;
using HomeServer.Grains.Rooms;
using HomeServer.Storage;
using HomeServer.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>Group commit against a real SQLite store, with appends that can be held back or made to fail.</summary>
public sealed class RoomWriterTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "homeserver-grain-tests", Guid.NewGuid().ToString("N"));
    private IHomeServerStore _inner = null!;
    private ControlledStore _store = null!;
    private readonly List<CommittedBatch> _committed = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _inner = await SqliteStore.OpenAsync(SqliteStore.ConnectionStringForDataDirectory(_directory), CancellationToken.None);
        _store = new ControlledStore(_inner);
        await _inner.Rooms.CreateRoomAsync(new NewRoom(RoomId, "10", Alice, Clock()), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _inner.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<RoomWriter> StartedRoomAsync()
    {
        var writer = new RoomWriter(_store, RoomId, Clock, TestSigningKeys.For("test"), batch => { lock (_committed) _committed.Add(batch); return Task.CompletedTask; }, NullLogger.Instance);
        await writer.LoadAsync(CancellationToken.None);
        var creation = PublicRoomPlan();
        await writer.SubmitAsync(builder =>
        {
            foreach (var spec in creation.Events) builder.Add(spec);
            return null;
        });
        return writer;
    }

    private static Task<string?> SendAsync(RoomWriter writer, string sender, string body) =>
        writer.SubmitAsync(builder => builder.Add(Message(sender, body)).EventId.Value);

    [Fact]
    public async Task Requests_arriving_while_a_batch_is_written_go_together_into_the_next_one()
    {
        var writer = await StartedRoomAsync();
        _store.Appends.Clear();
        var gate = _store.HoldNextAppend();

        var first = SendAsync(writer, Alice, "first");
        await _store.WaitForHeldAppendAsync();
        var queued = Enumerable.Range(0, 5).Select(i => SendAsync(writer, Alice, $"queued {i}")).ToList();
        gate.SetResult();
        var ids = await Task.WhenAll([first, .. queued]);

        Assert.Equal([1, 5], _store.Appends.Select(batch => batch.Events.Count));
        Assert.Equal(ids, _store.Appends.SelectMany(batch => batch.Events).Select(e => e.EventId));
        var timeline = await _inner.Events.GetLatestEventsAsync(RoomId, 6, CancellationToken.None);
        Assert.Equal(ids, timeline.Select(e => e.EventId));
        for (var i = 1; i < timeline.Count; i++)
        {
            using var json = JsonDocument.Parse(timeline[i].Json);
            Assert.Equal([timeline[i - 1].EventId], json.RootElement.GetProperty("prev_events").EnumerateArray().Select(p => p.GetString()));
        }
        Assert.Equal(writer.Current!.LastPosition, timeline[^1].RoomPosition);
    }

    [Fact]
    public async Task A_refused_request_fails_alone_and_the_rest_of_its_batch_is_written()
    {
        var writer = await StartedRoomAsync();
        var gate = _store.HoldNextAppend();
        var blocker = SendAsync(writer, Alice, "blocker");
        await _store.WaitForHeldAppendAsync();

        var allowed = SendAsync(writer, Alice, "allowed");
        var refused = SendAsync(writer, Bob, "not joined");
        var alsoAllowed = SendAsync(writer, Alice, "also allowed");
        gate.SetResult();

        await blocker;
        var error = await Assert.ThrowsAsync<MatrixRequestException>(() => refused);
        Assert.Equal("M_FORBIDDEN", error.ErrCode);
        Assert.Equal([await allowed, await alsoAllowed], _store.Appends[^1].Events.Select(e => e.EventId));
    }

    [Fact]
    public async Task A_failed_append_fails_its_requests_and_leaves_the_room_as_it_was()
    {
        var writer = await StartedRoomAsync();
        var before = writer.Current!;
        _store.FailNextAppend(new InvalidOperationException("disk on fire"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => SendAsync(writer, Alice, "lost"));

        Assert.Same(before, writer.Current);
        var next = await SendAsync(writer, Alice, "kept");
        var latest = Assert.Single(await _inner.Events.GetLatestEventsAsync(RoomId, 1, CancellationToken.None));
        Assert.Equal(next, latest.EventId);
        Assert.Equal(before.LastPosition + 1, latest.RoomPosition);
    }

    [Fact]
    public async Task When_another_writer_appended_the_room_reloads_and_the_request_continues_after_its_events()
    {
        var writer = await StartedRoomAsync();
        var rival = new RoomWriter(_inner, RoomId, Clock, TestSigningKeys.For("test"), _ => Task.CompletedTask, NullLogger.Instance);
        await rival.LoadAsync(CancellationToken.None);
        var rivals = await SendAsync(rival, Alice, "from the other activation");

        var ours = await SendAsync(writer, Alice, "ours");

        var latest = await _inner.Events.GetLatestEventsAsync(RoomId, 2, CancellationToken.None);
        Assert.Equal([rivals, ours], latest.Select(e => e.EventId));
        using var json = JsonDocument.Parse(latest[1].Json);
        Assert.Equal([rivals], json.RootElement.GetProperty("prev_events").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Committed_batches_are_reported_with_their_positions()
    {
        var writer = await StartedRoomAsync();

        var id = await SendAsync(writer, Alice, "reported");

        var batch = _committed[^1];
        var (planned, appended) = Assert.Single(batch.Events);
        Assert.Equal(id, planned.Pdu.EventId.Value);
        Assert.Equal(batch.After.LastPosition, appended.RoomPosition);
        Assert.Equal(batch.Before.LastPosition + 1, appended.RoomPosition);
    }

    /// <summary>The real store, except that appends are recorded and can be held back or failed once.</summary>
    private sealed class ControlledStore(IHomeServerStore inner) : IHomeServerStore, IRoomEventStore
    {
        private readonly ConcurrentQueue<TaskCompletionSource> _holds = new();
        private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Exception? _failure;

        public List<EventBatch> Appends { get; } = [];

        public IPushStore Push => inner.Push;
        public IPusherStore Pushers => inner.Pushers;

        public TaskCompletionSource HoldNextAppend()
        {
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _holds.Enqueue(gate);
            return gate;
        }

        public Task WaitForHeldAppendAsync() => _held.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public void FailNextAppend(Exception failure) => _failure = failure;

        public async Task<IReadOnlyList<AppendedEvent>> AppendAsync(EventBatch batch, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _failure, null) is { } failure) throw failure;
            if (_holds.TryDequeue(out var gate))
            {
                _held.TrySetResult();
                await gate.Task;
            }
            lock (Appends) Appends.Add(batch);
            return await inner.Events.AppendAsync(batch, cancellationToken);
        }

        public Task<StoredEvent?> GetEventAsync(string eventId, CancellationToken ct) => inner.Events.GetEventAsync(eventId, ct);
        public Task<IReadOnlyList<StoredEvent>> GetRoomEventsAsync(string roomId, long fromPosition, Direction direction, int limit, CancellationToken ct) =>
            inner.Events.GetRoomEventsAsync(roomId, fromPosition, direction, limit, ct);
        public Task<IReadOnlyList<StoredEvent>> GetLatestEventsAsync(string roomId, int limit, CancellationToken ct) => inner.Events.GetLatestEventsAsync(roomId, limit, ct);
        public Task<IReadOnlyList<StoredEvent>> GetEventsAfterAsync(IReadOnlyCollection<string> roomIds, long after, int limit, CancellationToken ct) =>
            inner.Events.GetEventsAfterAsync(roomIds, after, limit, ct);
        public Task<long> GetMaxGlobalPositionAsync(CancellationToken ct) => inner.Events.GetMaxGlobalPositionAsync(ct);
        public Task<long> GetAllocatedGlobalPositionAsync(CancellationToken ct) => inner.Events.GetAllocatedGlobalPositionAsync(ct);
        public Task<IReadOnlyList<EventPlace>> GetEventPlacesAsync(long after, long upTo, int limit, CancellationToken ct) =>
            inner.Events.GetEventPlacesAsync(after, upTo, limit, ct);

        public IAccountStore Accounts => inner.Accounts;
        public IDeviceStore Devices => inner.Devices;
        public IRoomStore Rooms => inner.Rooms;
        public IRoomAliasStore Aliases => inner.Aliases;
        public IRoomEventStore Events => this;
        public IRoomStateStore State => inner.State;
        public ITransactionIdStore TransactionIds => inner.TransactionIds;
        public IAccountDataStore AccountData => inner.AccountData;
        public IReceiptStore Receipts => inner.Receipts;
        public IFilterStore Filters => inner.Filters;
        public IRateLimitStore RateLimits => inner.RateLimits;
        public IPresenceStore Presence => inner.Presence;
        public IKeyBackupStore KeyBackups => inner.KeyBackups;
        public IToDeviceStore ToDevice => inner.ToDevice;
        public IKeyStore Keys => inner.Keys;
        public IMediaStore Media => inner.Media;
        public IRelationStore Relations => inner.Relations;
        public IEventSearchStore Search => inner.Search;
        public IReportStore Reports => inner.Reports;
        public IOpenIdTokenStore OpenIdTokens => inner.OpenIdTokens;
        public IServerSigningKeyStore SigningKeys => inner.SigningKeys;
        public IFederationDestinationStore FederationDestinations => inner.FederationDestinations;
        public IRemoteInviteStore RemoteInvites => inner.RemoteInvites;
        public IFederationOutboxStore FederationOutbox => inner.FederationOutbox;
        public IRoomForkStore Forks => inner.Forks;
        public IRoomBackfillStore Backfill => inner.Backfill;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
