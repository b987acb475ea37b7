using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using static HomeServer.Server.Tests.Federation.FederatedMembers;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Two servers of this project across a partition: A, back with more events owed than its catch-up threshold
/// (docs/adr/0042), sends B only the room's newest event; B fetches the rest from A's <c>/get_missing_events</c>
/// (docs/adr/0048) and its members see every message once, in order.
/// </summary>
public abstract class GapCatchUpTests<TPair>(TPair pair) where TPair : PartitionedCatchUpPair
{
    [Fact]
    public async Task After_a_partition_the_sender_catches_up_with_its_newest_event_and_the_receiver_fetches_the_thirty_messages_before_it()
    {
        var alice = await UserAsync(pair, pair.A, "alice");
        var bob = await UserAsync(pair, pair.B, "bob");
        var bea = await UserAsync(pair, pair.B, "bea");
        var aliasName = "gap-" + Guid.NewGuid().ToString("N")[..8];
        var roomId = await alice.Rooms.CreateRoomAsync(new JsonObject { ["preset"] = "public_chat", ["room_alias_name"] = aliasName });
        await bob.Rooms.JoinAsync($"#{aliasName}:{pair.NameOfA}");
        await bea.Rooms.JoinAsync($"#{aliasName}:{pair.NameOfA}");
        await WaitUntilAsync(async () => (await JoinedMembersAsync(alice.Rooms, roomId)).Count == 3, "B's users in A's member list");
        var logs = new[] { await MessageLog.FromNowAsync(bob.Sync, roomId), await MessageLog.FromNowAsync(bea.Sync, roomId) };
        var fetchesBefore = pair.MissingEventsRequestsToA;

        pair.Partition.Cut(pair.NameOfA, pair.NameOfB);
        var sent = new List<string>();
        for (var i = 1; i <= 30; i++) sent.Add(await alice.Rooms.SendTextAsync(roomId, $"during the partition {i}"));
        await WaitUntilAsync(() => Task.FromResult(pair.Partition.Dropped > 0), "A trying to reach B");
        pair.Partition.Heal();

        foreach (var log in logs)
        {
            await log.WaitForAsync(30, TimeSpan.FromSeconds(60));
            await log.SyncOnceAsync();
            Assert.Equal(Enumerable.Range(1, 30).Select(i => $"during the partition {i}"), log.Bodies);
            Assert.Equal(sent, log.EventIds);
        }
        Assert.True(pair.MissingEventsRequestsToA > fetchesBefore, "B never asked A for missing events: A sent everything itself");
        var messages = await bob.Rooms.MessagesAsync(roomId, "dir=b&limit=40");
        Assert.Equal(sent.AsEnumerable().Reverse(), messages.GetProperty("chunk").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.message").Select(e => e.GetProperty("event_id").GetString()!));
    }
}

/// <summary>
/// Two servers behind a <see cref="NetworkPartition"/> with quick retries and a catch-up threshold of 5 events, counting
/// the <c>/get_missing_events</c> requests A answers.
/// </summary>
public abstract class PartitionedCatchUpPair : FederationPair
{
    private int _missingEventsRequestsToA;

    public NetworkPartition Partition { get; } = new();

    public int MissingEventsRequestsToA => Volatile.Read(ref _missingEventsRequestsToA);

    protected override IEnumerable<string> ArgumentsOfEach =>
    [
        "--Federation:Outbound:InitialRetryDelay=00:00:00.2", "--Federation:Outbound:MaxRetryDelay=00:00:01",
        "--Federation:Outbound:CatchUpThreshold=5",
    ];

    protected override void ConfigureEach(WebApplication app)
    {
        Partition.Install(app);
        app.Use(async (context, next) =>
        {
            // A is the first server started; its host is its server name.
            if (context.Request.Path.Value!.Contains("/get_missing_events/", StringComparison.Ordinal) && context.Request.Host.Value == NameOfA)
                Interlocked.Increment(ref _missingEventsRequestsToA);
            await next(context);
        });
    }
}

public sealed class SqlitePartitionedCatchUpPair : PartitionedCatchUpPair
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresPartitionedCatchUpPair : PartitionedCatchUpPair
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

public sealed class SqliteGapCatchUpTests(SqlitePartitionedCatchUpPair pair)
    : GapCatchUpTests<SqlitePartitionedCatchUpPair>(pair), IClassFixture<SqlitePartitionedCatchUpPair>;

public sealed class PostgresGapCatchUpTests(PostgresPartitionedCatchUpPair pair)
    : GapCatchUpTests<PostgresPartitionedCatchUpPair>(pair), IClassFixture<PostgresPartitionedCatchUpPair>;
