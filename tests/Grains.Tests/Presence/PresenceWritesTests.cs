using HomeServer.Grains.Presence;
using HomeServer.Grains.Tests.Infrastructure;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Presence;

public sealed class PresenceWritesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private sealed class RecordingAnnouncer : IPresenceAnnouncer
    {
        public List<(List<string> UserIds, long Position)> Announced { get; } = [];

        public Task AnnounceAsync(IReadOnlyCollection<string> userIds, long position)
        {
            lock (Announced) Announced.Add((userIds.ToList(), position));
            return Task.CompletedTask;
        }
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task A_crowd_of_changes_is_stored_whole_each_at_its_own_position_in_few_transactions(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        var announcer = new RecordingAnnouncer();
        using var writes = new PresenceWrites(store.Store, announcer);
        var users = Enumerable.Range(0, 600).Select(i => $"@crowd{i}:test").ToList();

        var positions = await Task.WhenAll(users.Select((user, i) => writes.WriteAsync(new NewPresence(user, "online", null, 1_000), announce: i % 2 == 0)))
            .WaitAsync(Patience);

        Assert.Equal(users.Count, positions.Distinct().Count());
        Assert.Equal(positions.Max(), await store.Store.Presence.GetMaxStreamPositionAsync(CancellationToken.None));
        var stored = await store.Store.Presence.GetPresenceAsync(users, CancellationToken.None);
        Assert.Equal(users.Order(StringComparer.Ordinal), stored.Select(p => p.UserId).Order(StringComparer.Ordinal));
        Assert.All(stored, p => Assert.Equal(positions[users.IndexOf(p.UserId)], p.StreamPosition));
        // Each batch is announced once, at its last position, for its users that were to be told: here every other one.
        Assert.True(announcer.Announced.Count < users.Count / 2, $"{announcer.Announced.Count} announcements");
        Assert.Equal(users.Where((_, i) => i % 2 == 0).Order(StringComparer.Ordinal),
            announcer.Announced.SelectMany(a => a.UserIds).Order(StringComparer.Ordinal));
        Assert.All(announcer.Announced, a => Assert.True(a.UserIds.All(user => positions[users.IndexOf(user)] <= a.Position)));
    }

    [Theory]
    [InlineData(StoreBackend.Sqlite)]
    [InlineData(StoreBackend.Postgres)]
    public async Task Changes_of_one_user_are_stored_in_order_and_a_bad_one_fails_alone(StoreBackend backend)
    {
        await using var store = await TestStore.OpenAsync(backend);
        using var writes = new PresenceWrites(store.Store, new RecordingAnnouncer());

        var first = writes.WriteAsync(new NewPresence("@alice:test", "online", "one", 1_000), announce: true);
        var bad = writes.WriteAsync(new NewPresence("@bob:test", "busy", null, 1_000), announce: true);
        var second = writes.WriteAsync(new NewPresence("@alice:test", "unavailable", "two", 2_000), announce: true);
        var carol = writes.WriteAsync(new NewPresence("@carol:test", "online", null, 3_000), announce: true);

        await Assert.ThrowsAsync<ArgumentException>(() => bad.WaitAsync(Patience));
        Assert.True(await second.WaitAsync(Patience) > await first.WaitAsync(Patience));
        await carol.WaitAsync(Patience);
        var alice = await store.Store.Presence.GetPresenceAsync("@alice:test", CancellationToken.None);
        Assert.Equal(("unavailable", "two", await second), (alice!.Presence, alice.StatusMessage, alice.StreamPosition));
        Assert.Null(await store.Store.Presence.GetPresenceAsync("@bob:test", CancellationToken.None));
    }
}
