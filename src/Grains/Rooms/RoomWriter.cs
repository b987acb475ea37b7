using HomeServer.Grains.Federation.Signing;
using HomeServer.Storage;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>A write waiting for the room's next batch. <see cref="Plan"/> may run twice (after a fenced reload).</summary>
internal sealed class PendingWrite(Func<RoomBatchBuilder, string?> plan)
{
    private readonly TaskCompletionSource<string?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Adds the request's events to the batch and returns the event id to answer with (null when nothing is answered).</summary>
    public Func<RoomBatchBuilder, string?> Plan => plan;

    /// <summary>The answer, once the batch holding the request's events is durable.</summary>
    public Task<string?> Completion => _completion.Task;

    public void Complete(string? result) => _completion.TrySetResult(result);

    public void Fail(Exception exception) => _completion.TrySetException(exception);
}

/// <summary>The events one batch appended, in order, with their positions.</summary>
internal sealed record CommittedBatch(RoomSnapshot Before, RoomSnapshot After, IReadOnlyList<(PlannedEvent Event, AppendedEvent Appended)> Events)
{
    /// <summary>The state after each event of the batch that is part of the state (for forks from it later).</summary>
    public IReadOnlyList<(Identifiers.EventId EventId, System.Collections.Immutable.ImmutableDictionary<Events.StateEventKey, Events.Pdu> State)> StatesAfter { get; init; } = [];
}

/// <summary>
/// Group commit for one room. Requests queue while a batch is being written and go together into the next one:
/// the batch's events are built in request order against the state the previous batch left, appended in one fenced
/// transaction, and only then published as the new snapshot. This loop is the only writer of the room's state, so
/// it needs no more than the lock around the queue.
/// </summary>
internal sealed class RoomWriter(
    IHomeServerStore store, string roomId, Func<long> clock, ServerSigningKey signingKey, Func<CommittedBatch, Task> onCommitted, ILogger logger)
{
    // Leaves room for a last request of several events under the store's limit of 1000 per batch.
    private const int MaxEventsPerBatch = 500;

    /// <summary>How long a write's answer waits for its events to reach the members' sync grains.</summary>
    private static readonly TimeSpan DeliveryWait = TimeSpan.FromSeconds(2);

    private readonly object _gate = new();
    private readonly List<PendingWrite> _queue = [];
    private bool _writing;
    private RoomSnapshot? _snapshot;

    /// <summary>
    /// Runs on each planned batch just before it is appended and may return it with more to store in the same
    /// transaction (the notifications of its events). Null: the batch is appended as planned.
    /// </summary>
    public Func<RoomBatchBuilder, EventBatch, Task<EventBatch>>? BeforeAppend { get; set; }

    /// <summary>
    /// Runs after each request was planned, with the builder's mark from before it; may complete the request's events
    /// (another server's signature). Throwing refuses the request alone: its events are taken out of the batch.
    /// </summary>
    public Func<RoomBatchBuilder, RoomBatchBuilder.Mark, Task>? AfterPlan { get; set; }

    /// <summary>The newest durable version of the room; null when the room does not exist.</summary>
    public RoomSnapshot? Current => Volatile.Read(ref _snapshot);

    /// <summary>Loads the room's newest durable version; returns the global position of its newest event (0: none).</summary>
    public async Task<long> LoadAsync(CancellationToken cancellationToken)
    {
        var loaded = await RoomSnapshotLoader.LoadAsync(store, roomId, cancellationToken);
        Volatile.Write(ref _snapshot, loaded?.Snapshot);
        return loaded?.LastGlobalPosition ?? 0;
    }

    /// <summary>Starts a room that has just been created in the store, before its first event.</summary>
    public void StartEmpty(RoomSnapshot empty) => Volatile.Write(ref _snapshot, empty);

    public Task<string?> SubmitAsync(Func<RoomBatchBuilder, string?> plan)
    {
        var write = new PendingWrite(plan);
        bool start;
        lock (_gate)
        {
            _queue.Add(write);
            start = !_writing;
            _writing = true;
        }
        if (start) _ = Task.Run(WriteLoopAsync);
        return write.Completion;
    }

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            PendingWrite[] batch;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _writing = false;
                    return;
                }
                batch = [.. _queue];
                _queue.Clear();
            }
            IReadOnlyList<PendingWrite> leftOver;
            try
            {
                leftOver = await WriteBatchAsync(batch);
            }
            catch (Exception e)
            {
                // Never leave the loop with _writing set: the room would accept writes and answer none.
                logger.LogError(e, "Writing a batch of {RoomId} failed unexpectedly", roomId);
                foreach (var request in batch) request.Fail(e);
                leftOver = [];
            }
            if (leftOver.Count > 0)
            {
                lock (_gate) _queue.InsertRange(0, leftOver);
            }
        }
    }

    /// <summary>Writes as many of the requests as fit in one batch and returns the others.</summary>
    private async Task<IReadOnlyList<PendingWrite>> WriteBatchAsync(PendingWrite[] requests)
    {
        var candidates = requests;
        IReadOnlyList<PendingWrite> leftOver = [];
        for (var attempt = 1; ; attempt++)
        {
            var before = Current;
            if (before is null)
            {
                foreach (var request in candidates) request.Fail(MatrixRequestException.Forbidden("The room does not exist."));
                return leftOver;
            }

            var builder = new RoomBatchBuilder(before, clock, signingKey);
            var planned = new List<(PendingWrite Request, string? Result)>();
            var taken = 0;
            for (; taken < candidates.Length && builder.Events.Count < MaxEventsPerBatch; taken++)
            {
                var request = candidates[taken];
                var mark = builder.Save();
                try
                {
                    var result = request.Plan(builder);
                    if (AfterPlan is { } afterPlan) await afterPlan(builder, mark);
                    planned.Add((request, result));
                }
                catch (Exception e)
                {
                    builder.Restore(mark);
                    request.Fail(e);
                }
            }
            if (attempt == 1) leftOver = candidates[taken..];

            if (builder.Events.Count == 0)
            {
                foreach (var (request, result) in planned) request.Complete(result);
                return leftOver;
            }

            IReadOnlyList<AppendedEvent> appended;
            try
            {
                var toAppend = builder.ToBatch();
                if (BeforeAppend is { } beforeAppend) toAppend = await beforeAppend(builder, toAppend);
                appended = await store.Events.AppendAsync(toAppend, CancellationToken.None);
            }
            catch (Exception e) when (e is ConcurrencyConflictException or DuplicateEventException)
            {
                // Another activation wrote to this room (a split view during a membership change). Its events are
                // durable and ours are not: reload them and plan the same requests again, once.
                logger.LogWarning(e, "Append to {RoomId} was fenced off (attempt {Attempt}); reloading the room", roomId, attempt);
                await ReloadQuietlyAsync();
                if (attempt < 2)
                {
                    candidates = planned.Select(p => p.Request).ToArray();
                    continue;
                }
                var retry = new RoomBusyException($"Room {roomId} was changed by another writer; try again.");
                foreach (var (request, _) in planned) request.Fail(retry);
                return leftOver;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Append to {RoomId} failed", roomId);
                foreach (var (request, _) in planned) request.Fail(e);
                return leftOver;
            }

            var after = builder.Commit(appended[^1].RoomPosition);
            Volatile.Write(ref _snapshot, after);
            Task delivered;
            try
            {
                delivered = onCommitted(new CommittedBatch(before, after, builder.Events.Zip(appended).ToList()) { StatesAfter = builder.StatesAfter });
            }
            catch (Exception e)
            {
                logger.LogError(e, "Handling the committed batch of {RoomId} failed", roomId);
                delivered = Task.CompletedTask;
            }
            _ = CompleteWhenDeliveredAsync(planned, delivered);
            return leftOver;
        }
    }

    /// <summary>
    /// Answers the batch's requests once its events reached the members' sync grains (or after
    /// <see cref="DeliveryWait"/>): a client that syncs after its send was answered then finds the event in the shared
    /// events, as it would in the store (read your writes). The next batch does not wait for this.
    /// </summary>
    private static async Task CompleteWhenDeliveredAsync(List<(PendingWrite Request, string? Result)> planned, Task delivered)
    {
        try
        {
            await delivered.WaitAsync(DeliveryWait);
        }
        catch (Exception)
        {
            // A slow or failed hand-over only delays the answer; the members catch up from the store.
        }
        foreach (var (request, result) in planned) request.Complete(result);
    }

    private async Task ReloadQuietlyAsync()
    {
        try
        {
            await LoadAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Reloading {RoomId} failed", roomId);
        }
    }
}
