using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class EventAppendTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
    }

    [Fact]
    public async Task Appended_events_get_consecutive_room_positions_and_read_back_verbatim()
    {
        // Odd spacing and key order: the store must keep the bytes, not re-serialize them.
        var json = TestEvents.Utf8("{ \"type\":\"m.room.message\",  \"content\": {\"body\":\"h\u00e9llo \\u2603\"} , \"a\":1}");
        var first = new NewEvent("$1", "m.room.message", null, Alice, 1_700_000_000_123, json);
        var second = TestEvents.State("$2", "m.room.topic", "", new { topic = "t" }, Bob);

        var appended = await Store.Events.AppendAsync(new EventBatch(RoomA, 0, [first, second]), Ct);

        Assert.Equal(["$1", "$2"], appended.Select(a => a.EventId));
        Assert.Equal([1L, 2L], appended.Select(a => a.RoomPosition));
        Assert.Equal(appended[0].GlobalPosition + 1, appended[1].GlobalPosition);
        Assert.Equal(2, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);

        var stored = await Store.Events.GetEventAsync("$1", Ct);
        Assert.NotNull(stored);
        Assert.Equal(
            (RoomA, 1L, appended[0].GlobalPosition, "$1", "m.room.message", (string?)null, Alice, 1_700_000_000_123L, (string?)null, false),
            (stored.RoomId, stored.RoomPosition, stored.GlobalPosition, stored.EventId, stored.Type, stored.StateKey, stored.Sender,
                stored.OriginServerTs, stored.Membership, stored.Redacted));
        Assert.Equal(json, stored.Json);
        Assert.Equal("", (await Store.Events.GetEventAsync("$2", Ct))!.StateKey);
        Assert.Null(await Store.Events.GetEventAsync("$missing", Ct));
    }

    [Fact]
    public async Task Next_batch_continues_from_the_expected_position()
    {
        await Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$1"), TestEvents.Message("$2")]), Ct);

        var appended = await Store.Events.AppendAsync(new EventBatch(RoomA, 2, [TestEvents.Message("$3")]), Ct);

        Assert.Equal(3, appended.Single().RoomPosition);
        Assert.Equal(3, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
    }

    [Fact]
    public async Task Global_positions_increase_across_rooms()
    {
        var a1 = await AppendMessagesAsync(RoomA, "a", 2);
        var b1 = await AppendMessagesAsync(RoomB, "b", 1);
        var a2 = await AppendMessagesAsync(RoomA, "c", 1);

        var globals = a1.Concat(b1).Concat(a2).Select(a => a.GlobalPosition).ToList();
        Assert.Equal(globals.Order(), globals);
        Assert.Equal(globals.Count, globals.Distinct().Count());
        Assert.Equal([1L, 1L], new[] { b1[0].RoomPosition, a1[0].RoomPosition });
        Assert.Equal(globals[^1], await Store.Events.GetMaxGlobalPositionAsync(Ct));
    }

    [Fact]
    public async Task A_large_batch_is_one_append()
    {
        var events = Enumerable.Range(1, 450).Select(i => TestEvents.Message($"$big{i}")).ToList();

        var appended = await Store.Events.AppendAsync(new EventBatch(RoomA, 0, events), Ct);

        Assert.Equal(Enumerable.Range(1, 450).Select(i => (long)i), appended.Select(a => a.RoomPosition));
        Assert.Equal(450, (await Store.Events.GetLatestEventsAsync(RoomA, 1000, Ct)).Count);
        Assert.Equal(appended[^1].GlobalPosition, await Store.Events.GetMaxGlobalPositionAsync(Ct));
    }

    [Fact]
    public async Task A_stale_expected_position_is_a_conflict_and_writes_nothing()
    {
        await AppendMessagesAsync(RoomA, "m", 3);

        var conflict = await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 1, [TestEvents.Message("$late")]), Ct));

        Assert.Equal((RoomA, 1L, 3L), (conflict.RoomId, conflict.ExpectedLastPosition, conflict.ActualLastPosition));
        Assert.Null(await Store.Events.GetEventAsync("$late", Ct));
        Assert.Equal(3, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
    }

    [Fact]
    public async Task An_expected_position_ahead_of_the_room_is_a_conflict()
    {
        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 5, [TestEvents.Message("$x")]), Ct));
        Assert.Null(await Store.Events.GetEventAsync("$x", Ct));
    }

    [Fact]
    public async Task Of_concurrent_writers_expecting_the_same_position_exactly_one_wins()
    {
        // Two store instances stand for two activations of the same room on different silos.
        var stores = new[] { Store, await OpenSecondStoreAsync() };
        const int writers = 8;
        long expected = 0;
        for (var round = 0; round < 5; round++)
        {
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var attempts = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                await start.Task;
                var batch = new EventBatch(RoomA, expected, [TestEvents.Message($"$r{round}w{w}a"), TestEvents.Message($"$r{round}w{w}b")]);
                try
                {
                    await stores[w % 2].Events.AppendAsync(batch, Ct);
                    return w;
                }
                catch (ConcurrencyConflictException)
                {
                    return -1;
                }
            })).ToList();
            start.SetResult();
            var results = await Task.WhenAll(attempts);

            var winner = Assert.Single(results, r => r >= 0);
            expected += 2;
            var room = await Store.Rooms.GetRoomAsync(RoomA, Ct);
            Assert.Equal(expected, room!.LastPosition);
            var latest = await Store.Events.GetLatestEventsAsync(RoomA, 2, Ct);
            Assert.Equal([$"$r{round}w{winner}a", $"$r{round}w{winner}b"], latest.Select(e => e.EventId));
        }
        Assert.Equal(10, (await Store.Events.GetLatestEventsAsync(RoomA, 100, Ct)).Count);
    }

    [Fact]
    public async Task Readers_that_stop_at_the_persisted_position_see_every_event_once_in_order()
    {
        // Concurrent appends to many rooms through two stores (two silos), batches of 1 to 3 events; sync-like readers
        // advance their cursor to the persisted-up-to position and never past it. Each must see every event exactly
        // once, in global order: an append still in flight must hold readers back, never be read past.
        var rooms = Enumerable.Range(0, 8).Select(i => $"!w{i}:test").ToList();
        foreach (var room in rooms)
        {
            await CreateRoomAsync(room);
        }
        var stores = new[] { Store, await OpenSecondStoreAsync() };
        const int batchesPerWriter = 20;
        var writers = rooms.Select((room, i) => Task.Run(async () =>
        {
            var positions = new List<long>();
            var roomPosition = 0L;
            for (var n = 0; n < batchesPerWriter; n++)
            {
                var events = Enumerable.Range(0, 1 + (n + i) % 3).Select(k => TestEvents.Message($"${room}-{n}-{k}")).ToList();
                var appended = await stores[i % 2].Events.AppendAsync(new EventBatch(room, roomPosition, events), Ct);
                roomPosition += events.Count;
                positions.AddRange(appended.Select(a => a.GlobalPosition));
            }
            return positions;
        })).ToList();

        var readers = Enumerable.Range(0, 3).Select(r => Task.Run(async () =>
        {
            var store = stores[r % 2];
            var seen = new List<long>();
            long cursor = 0;
            while (true)
            {
                // Checked before reading: only a read that started after the last write may end the loop.
                var writersDone = writers.All(w => w.IsCompleted);
                var upTo = await store.Events.GetMaxGlobalPositionAsync(Ct);
                Assert.True(upTo >= cursor, $"The persisted-up-to position went back from {cursor} to {upTo}.");
                var page = await store.Events.GetEventsAfterAsync(rooms, cursor, 10_000, Ct);
                seen.AddRange(page.TakeWhile(e => e.GlobalPosition <= upTo).Select(e => e.GlobalPosition));
                cursor = upTo;
                if (writersDone && page.All(e => e.GlobalPosition <= upTo)) return seen;
            }
        })).ToList();

        var written = (await Task.WhenAll(writers)).SelectMany(p => p).Order().ToList();
        Assert.Equal(rooms.Count * batchesPerWriter * 2, written.Count);
        foreach (var seen in await Task.WhenAll(readers))
        {
            Assert.Equal(written, seen);
        }
    }

    [Fact]
    public async Task Appending_to_an_unknown_room_is_refused()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() =>
            Store.Events.AppendAsync(new EventBatch("!ghost:test", 0, [TestEvents.Message("$1")]), Ct));
        Assert.Null(await Store.Events.GetEventAsync("$1", Ct));
    }

    [Fact]
    public async Task A_known_event_id_fails_the_whole_batch()
    {
        await AppendMessagesAsync(RoomB, "dup", 1);
        var eventsBefore = await CountRowsAsync("events");

        await Assert.ThrowsAsync<DuplicateEventException>(() =>
            Store.Events.AppendAsync(
                new EventBatch(RoomA, 0, [TestEvents.Message("$fresh"), TestEvents.Message("$dup1")]), Ct));

        Assert.Null(await Store.Events.GetEventAsync("$fresh", Ct));
        Assert.Equal(RoomB, (await Store.Events.GetEventAsync("$dup1", Ct))!.RoomId);
        Assert.Equal(0, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
        Assert.Equal(eventsBefore, await CountRowsAsync("events"));
    }

    [Fact]
    public async Task A_failing_state_change_rolls_back_events_and_transaction_ids_and_hides_no_position()
    {
        var maxBefore = await Store.Events.GetMaxGlobalPositionAsync(Ct);
        var batch = new EventBatch(RoomA, 0,
        [
            TestEvents.Message("$m") with { Transaction = new ClientTransaction("PHONE", "txn1") },
            TestEvents.State("$name", "m.room.name", "", new { name = "n" }),
        ])
        {
            StateChanges = [new StateChange("m.room.name", "", "$name"), new StateChange("m.room.topic", "", "$nowhere")],
        };

        await Assert.ThrowsAsync<EntityNotFoundException>(() => Store.Events.AppendAsync(batch, Ct));

        Assert.Null(await Store.Events.GetEventAsync("$m", Ct));
        Assert.Null(await Store.Events.GetEventAsync("$name", Ct));
        Assert.Null(await Store.TransactionIds.FindEventIdAsync(RoomA, Alice, "PHONE", "txn1", Ct));
        Assert.Empty(await Store.State.GetCurrentStateAsync(RoomA, Ct));
        Assert.Equal(0, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
        Assert.Equal(0, await CountRowsAsync("events"));
        // Nothing was written, so readers may pass the failed append's global positions (a store with concurrent
        // writers does not reuse them: a gap, never a hidden event).
        var passable = await Store.Events.GetMaxGlobalPositionAsync(Ct);
        Assert.True(passable >= maxBefore);

        // The same batch minus the bad change then goes through at the same room positions.
        var appended = await Store.Events.AppendAsync(batch with { StateChanges = [batch.StateChanges[0]] }, Ct);
        Assert.Equal([1L, 2L], appended.Select(a => a.RoomPosition));
        Assert.True(appended[0].GlobalPosition > passable);
        Assert.Equal(appended[1].GlobalPosition, await Store.Events.GetMaxGlobalPositionAsync(Ct));
    }

    [Fact]
    public async Task Redaction_replaces_the_json_and_flags_the_event()
    {
        await AppendAsync(RoomA, [TestEvents.Message("$secret", body: "password123")]);
        var redactedJson = TestEvents.Json(new { type = "m.room.message", content = new { } });

        await Store.Events.AppendAsync(
            new EventBatch(RoomA, 1, [TestEvents.Message("$redaction")]) { Redactions = [new Redaction("$secret", redactedJson)] }, Ct);

        var stored = await Store.Events.GetEventAsync("$secret", Ct);
        Assert.True(stored!.Redacted);
        Assert.Equal(redactedJson, stored.Json);
        Assert.False((await Store.Events.GetEventAsync("$redaction", Ct))!.Redacted);
    }

    [Fact]
    public async Task Redacting_an_event_of_another_room_fails_the_batch()
    {
        await AppendAsync(RoomB, [TestEvents.Message("$other")]);
        var original = (await Store.Events.GetEventAsync("$other", Ct))!.Json;

        await Assert.ThrowsAsync<EntityNotFoundException>(() => Store.Events.AppendAsync(
            new EventBatch(RoomA, 0, [TestEvents.Message("$redaction")])
            {
                Redactions = [new Redaction("$other", TestEvents.Json(new { }))],
            }, Ct));

        Assert.Null(await Store.Events.GetEventAsync("$redaction", Ct));
        var other = await Store.Events.GetEventAsync("$other", Ct);
        Assert.False(other!.Redacted);
        Assert.Equal(original, other.Json);
    }
}
