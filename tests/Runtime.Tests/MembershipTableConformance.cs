using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Postgres;
using HomeServer.TestSupport;
using Npgsql;

namespace HomeServer.Runtime.Tests;

/// <summary>What every <see cref="IMembershipTable"/> must do; run against the in-memory and PostgreSQL tables.</summary>
public abstract class MembershipTableConformance : IAsyncLifetime
{
    // Whole milliseconds: PostgreSQL keeps microseconds, so finer times would not round-trip exactly.
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    protected IMembershipTable Table { get; set; } = null!;

    public abstract Task InitializeAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static MembershipEntry Entry(int port, SiloStatus status = SiloStatus.Active, long generation = 1) =>
        new(new SiloAddress("127.0.0.1", port, generation), $"s{port}", status, Now, Now, []);

    [Fact]
    public async Task A_new_table_is_empty_at_version_zero()
    {
        var snapshot = await Table.ReadAllAsync(default);
        Assert.Empty(snapshot.Entries);
        Assert.Equal(0, snapshot.Version);
    }

    [Fact]
    public async Task Every_write_is_a_compare_and_swap_on_the_table_version()
    {
        Assert.True(await Table.TryInsertAsync(Entry(1), 0, default));
        Assert.False(await Table.TryInsertAsync(Entry(2), 0, default)); // stale version
        Assert.False(await Table.TryInsertAsync(Entry(1), 1, default)); // row exists
        Assert.True(await Table.TryUpdateAsync(Entry(1, SiloStatus.ShuttingDown), 1, default));
        Assert.False(await Table.TryUpdateAsync(Entry(1, SiloStatus.Dead), 1, default));
        Assert.False(await Table.TryUpdateAsync(Entry(9), 2, default)); // missing row
        var snapshot = await Table.ReadAllAsync(default);
        Assert.Equal(2, snapshot.Version);
        Assert.Equal(SiloStatus.ShuttingDown, snapshot.Entries.Single().Status);
    }

    [Fact]
    public async Task Of_concurrent_writers_that_read_the_same_version_exactly_one_wins()
    {
        var writes = Enumerable.Range(1, 8).Select(port => Table.TryInsertAsync(Entry(port), 0, default));
        Assert.Single(await Task.WhenAll(writes), won => won);
        Assert.Equal(1, (await Table.ReadAllAsync(default)).Version);
    }

    [Fact]
    public async Task Rows_round_trip_with_votes_and_generations()
    {
        var voter = new SiloAddress("10.0.0.2", 11111, 42);
        var entry = Entry(1, SiloStatus.Active, generation: 1_700_000_000_123) with { SuspectVotes = [new SuspectVote(voter, Now)], IsGateway = false };
        Assert.True(await Table.TryInsertAsync(entry, 0, default));
        Assert.True(await Table.TryInsertAsync(Entry(1, SiloStatus.Joining, generation: 1_700_000_000_999), 1, default));
        var read = (await Table.ReadAllAsync(default)).Find(entry.Address)!;
        Assert.Equal(entry.SiloName, read.SiloName);
        Assert.Equal(entry.Status, read.Status);
        Assert.Equal(entry.StartTime, read.StartTime);
        Assert.False(read.IsGateway);
        Assert.Equal(voter, Assert.Single(read.SuspectVotes).Voter);
        Assert.Equal(Now, read.SuspectVotes[0].At);
    }

    [Fact]
    public async Task Heartbeats_do_not_move_the_version_and_defunct_rows_are_cleaned_up()
    {
        await Table.TryInsertAsync(Entry(1), 0, default);
        await Table.TryInsertAsync(Entry(2, SiloStatus.Dead), 1, default);
        await Table.HeartbeatAsync(Entry(1).Address, Now.AddMinutes(1), default);
        var snapshot = await Table.ReadAllAsync(default);
        Assert.Equal(2, snapshot.Version);
        Assert.Equal(Now.AddMinutes(1), snapshot.Find(Entry(1).Address)!.IAmAliveTime);
        Assert.Equal(1, await Table.CleanupDefunctAsync(Now.AddSeconds(30), default)); // only the Dead row
        Assert.Single((await Table.ReadAllAsync(default)).Entries);
    }
}

public sealed class InMemoryMembershipTableTests : MembershipTableConformance
{
    public override Task InitializeAsync()
    {
        Table = new InMemoryMembershipTable();
        return Task.CompletedTask;
    }
}

public sealed class PostgresMembershipTableTests : MembershipTableConformance
{
    private PostgresTestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    public override async Task InitializeAsync()
    {
        _database = await PostgresTestDatabase.CreateAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        Table = await PostgresMembershipTable.OpenAsync(_dataSource, "test-cluster", default);
    }

    [Fact]
    public async Task Clusters_sharing_a_database_do_not_see_each_other()
    {
        var other = await PostgresMembershipTable.OpenAsync(_dataSource, "other-cluster", default);
        Assert.True(await other.TryInsertAsync(new MembershipEntry(new SiloAddress("127.0.0.1", 1, 1), "x", SiloStatus.Active,
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, []), 0, default));
        Assert.Empty((await Table.ReadAllAsync(default)).Entries);
        Assert.Equal(0, (await Table.ReadAllAsync(default)).Version);
    }

    public override async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }
}
