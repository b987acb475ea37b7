using System.Data.Common;
using HomeServer.Storage.Tests.Backends;
using HomeServer.Storage.Tests.Conformance;

namespace HomeServer.Storage.Tests;

/// <summary>
/// PostgreSQL appends claim their global positions before their transaction (ADR 0026). These tests hold an append in
/// flight (its room row locked by another transaction, so it waits at its fence after claiming) and check what readers
/// may read meanwhile, and what happens to claims whose append died.
/// </summary>
public sealed class PostgresPositionClaimTests : StoreTestBase<PostgresTestBackend>
{
    protected override async Task SeedAsync()
    {
        await CreateRoomAsync(RoomA);
        await CreateRoomAsync(RoomB);
        await AppendMessagesAsync(RoomA, "before", 2);
    }

    [Fact]
    public async Task An_append_in_flight_holds_readers_below_its_positions_while_later_ones_commit()
    {
        await using var roomLock = await LockRoomRowAsync(RoomA);
        var inFlight = Store.Events.AppendAsync(new EventBatch(RoomA, 2, [TestEvents.Message("$slow")]), Ct);
        var claimed = await WaitForClaimAsync();

        var later = await Store.Events.AppendAsync(new EventBatch(RoomB, 0, [TestEvents.Message("$fast")]), Ct);

        Assert.Equal(claimed + 1, later[0].GlobalPosition);
        Assert.NotNull(await Store.Events.GetEventAsync("$fast", Ct));
        Assert.Equal(claimed - 1, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Equal(claimed + 1, await Store.Events.GetAllocatedGlobalPositionAsync(Ct));

        await roomLock.RollbackAsync(Ct);
        var slow = Assert.Single(await inFlight);
        Assert.Equal(claimed, slow.GlobalPosition);
        Assert.Equal(claimed + 1, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Equal(0, await CountRowsAsync("position_claims"));
    }

    [Fact]
    public async Task Concurrent_appends_of_many_rooms_claim_distinct_ranges_and_leave_no_claim_behind()
    {
        var rooms = Enumerable.Range(0, 24).Select(i => $"!many{i}:example.org").ToList();
        foreach (var room in rooms) await CreateRoomAsync(room);
        var before = await Store.Events.GetMaxGlobalPositionAsync(Ct);

        // Three events per batch, so a wrong split of a group's range shows as overlapping or misplaced positions.
        var appended = await Task.WhenAll(rooms.Select(room => Store.Events.AppendAsync(new EventBatch(room, 0,
            [TestEvents.Message($"$a-{room}"), TestEvents.Message($"$b-{room}"), TestEvents.Message($"$c-{room}")]), Ct)));

        var positions = appended.SelectMany(batch => batch.Select(e => e.GlobalPosition)).Order().ToList();
        Assert.Equal(Enumerable.Range(1, rooms.Count * 3).Select(i => before + i), positions);
        Assert.All(appended, batch => Assert.Equal([batch[0].GlobalPosition, batch[0].GlobalPosition + 1, batch[0].GlobalPosition + 2],
            batch.Select(e => e.GlobalPosition)));
        Assert.Equal(0, await CountRowsAsync("position_claims"));
        Assert.Equal(before + rooms.Count * 3, await Store.Events.GetMaxGlobalPositionAsync(Ct));
    }

    [Fact]
    public async Task More_concurrent_appends_than_the_pool_has_connections_all_commit()
    {
        // Each append holds its connection while it waits for its claim; the claim must not need one more.
        await using var smallPool = await Backend.OpenStoreWithAsync("Maximum Pool Size=4", Ct);
        var rooms = Enumerable.Range(0, 16).Select(i => $"!pool{i}:example.org").ToList();
        foreach (var room in rooms) await CreateRoomAsync(room);
        var before = await Store.Events.GetMaxGlobalPositionAsync(Ct);

        var appended = await Task.WhenAll(rooms.Select(room => smallPool.Events.AppendAsync(new EventBatch(room, 0, [TestEvents.Message($"$p-{room}")]), Ct)));

        Assert.Equal(Enumerable.Range(1, rooms.Count).Select(i => before + i), appended.Select(batch => Assert.Single(batch).GlobalPosition).Order());
        Assert.Equal(0, await CountRowsAsync("position_claims"));
    }

    [Fact]
    public async Task A_failed_append_releases_its_claim_and_leaves_a_gap_readers_pass()
    {
        var before = await Store.Events.GetMaxGlobalPositionAsync(Ct);

        await Assert.ThrowsAsync<ConcurrencyConflictException>(() =>
            Store.Events.AppendAsync(new EventBatch(RoomA, 0, [TestEvents.Message("$stale")]), Ct));

        Assert.Equal(0, await CountRowsAsync("position_claims"));
        Assert.Equal(before + 1, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        var next = await Store.Events.AppendAsync(new EventBatch(RoomB, 0, [TestEvents.Message("$next")]), Ct);
        Assert.Equal(before + 2, next[0].GlobalPosition);
        Assert.Equal(before + 2, await Store.Events.GetMaxGlobalPositionAsync(Ct));
    }

    [Fact]
    public async Task An_append_whose_claim_was_reaped_fails_and_writes_nothing()
    {
        await using var roomLock = await LockRoomRowAsync(RoomA);
        var inFlight = Store.Events.AppendAsync(new EventBatch(RoomA, 2, [TestEvents.Message("$late")]), Ct);
        var claimed = await WaitForClaimAsync();
        await ExecuteAsync("DELETE FROM position_claims");
        Assert.Equal(claimed, await Store.Events.GetMaxGlobalPositionAsync(Ct));

        await roomLock.RollbackAsync(Ct);

        await Assert.ThrowsAsync<StoreUnavailableException>(() => inFlight);
        Assert.Null(await Store.Events.GetEventAsync("$late", Ct));
        Assert.Equal(2, (await Store.Rooms.GetRoomAsync(RoomA, Ct))!.LastPosition);
    }

    [Fact]
    public async Task A_claim_of_a_connection_that_is_gone_is_reaped_and_one_of_a_live_connection_is_not()
    {
        await using var owner = await OpenRawAsync();
        var livePid = Convert.ToInt32(await ScalarAsync(owner, "SELECT pg_backend_pid()"));
        var live = await ClaimByHandAsync(livePid, age: TimeSpan.FromSeconds(5));
        var dead = await ClaimByHandAsync(pid: -1, age: TimeSpan.FromSeconds(5));

        Assert.Equal(live - 1, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Equal(1, await CountRowsAsync("position_claims"));

        await ExecuteAsync($"UPDATE position_claims SET claimed_at = clock_timestamp() - interval '31 seconds' WHERE first_position = {live}");
        Assert.Equal(dead, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Equal(0, await CountRowsAsync("position_claims"));
    }

    [Fact]
    public async Task A_young_claim_is_left_alone_even_without_its_connection()
    {
        var claimed = await ClaimByHandAsync(pid: -1, age: TimeSpan.Zero);

        Assert.Equal(claimed - 1, await Store.Events.GetMaxGlobalPositionAsync(Ct));
        Assert.Equal(1, await CountRowsAsync("position_claims"));
    }

    /// <summary>Holds the room's row lock in an open transaction: an append to the room claims, then waits at its fence.</summary>
    private async Task<RowLock> LockRoomRowAsync(string roomId)
    {
        var connection = await OpenRawAsync();
        var transaction = await connection.BeginTransactionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT last_position FROM rooms WHERE room_id = '{roomId}' FOR UPDATE";
        await command.ExecuteScalarAsync(Ct);
        return new RowLock(connection, transaction);
    }

    private sealed class RowLock(DbConnection connection, DbTransaction transaction) : IAsyncDisposable
    {
        public Task RollbackAsync(CancellationToken ct) => transaction.RollbackAsync(ct);

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private async Task<long> WaitForClaimAsync()
    {
        await using var connection = await OpenRawAsync();
        while (true)
        {
            if (await ScalarAsync(connection, "SELECT MIN(first_position) FROM position_claims") is long first) return first;
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>A claim as an append makes it, owned by <paramref name="pid"/>, made <paramref name="age"/> ago.</summary>
    private async Task<long> ClaimByHandAsync(int pid, TimeSpan age)
    {
        await using var connection = await OpenRawAsync();
        var position = Convert.ToInt64(await ScalarAsync(connection,
            "UPDATE stream_positions SET position = position + 1 WHERE stream = 'events' RETURNING position"));
        await ScalarAsync(connection,
            "INSERT INTO position_claims (stream, first_position, last_position, backend_pid, claimed_at) " +
            $"VALUES ('events', {position}, {position}, {pid}, clock_timestamp() - interval '{(int)age.TotalSeconds} seconds')");
        return position;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = await OpenRawAsync();
        await ScalarAsync(connection, sql);
    }

    private async Task<object?> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(Ct);
    }
}
