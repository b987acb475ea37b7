using System.Data.Common;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>
/// Base of the conformance suite: every test gets a fresh database of the backend and a store open on it.
/// Each area's abstract test class is run for both backends by the one-line classes in
/// SqliteConformance.cs and PostgresConformance.cs.
/// </summary>
public abstract class StoreTestBase<TBackend> : IAsyncLifetime
    where TBackend : ITestStoreBackend, new()
{
    protected const string Alice = "@alice:test";
    protected const string Bob = "@bob:test";
    protected const string Carol = "@carol:test";
    protected const string RoomA = "!a:test";
    protected const string RoomB = "!b:test";
    protected const string RoomC = "!c:test";

    private readonly List<IHomeServerStore> _extraStores = [];

    protected TBackend Backend { get; } = new();

    protected IHomeServerStore Store { get; private set; } = null!;

    protected CancellationToken Ct { get; } = new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    public async Task InitializeAsync()
    {
        await Backend.InitializeAsync();
        Store = await Backend.OpenStoreAsync(Ct);
        await SeedAsync();
    }

    /// <summary>Data every test of the class starts with.</summary>
    protected virtual Task SeedAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _extraStores)
        {
            await store.DisposeAsync();
        }
        await Store.DisposeAsync();
        await Backend.DisposeAsync();
    }

    /// <summary>Another store instance on the same database, as a second silo or activation would have.</summary>
    protected async Task<IHomeServerStore> OpenSecondStoreAsync()
    {
        var store = await Backend.OpenStoreAsync(Ct);
        _extraStores.Add(store);
        return store;
    }

    /// <summary>Closes the store and opens a new instance on the same database.</summary>
    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await Backend.OpenStoreAsync(Ct);
    }

    protected async Task<long> CountRowsAsync(string table)
    {
        await using var connection = await Backend.OpenRawConnectionAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return Convert.ToInt64(await command.ExecuteScalarAsync(Ct));
    }

    protected async Task<DbConnection> OpenRawAsync() => await Backend.OpenRawConnectionAsync(Ct);

    protected Task CreateAccountAsync(string userId) =>
        Store.Accounts.CreateAccountAsync(new NewAccount(userId, "hash", 1_000), Ct);

    protected Task CreateRoomAsync(string roomId, string creator = Alice) =>
        Store.Rooms.CreateRoomAsync(new NewRoom(roomId, "10", creator, 1_000), Ct);

    /// <summary>Appends the events to the room at its current last position.</summary>
    protected async Task<IReadOnlyList<AppendedEvent>> AppendAsync(
        string roomId, IReadOnlyList<NewEvent> events, IReadOnlyList<StateChange>? stateChanges = null)
    {
        var room = await Store.Rooms.GetRoomAsync(roomId, Ct) ?? throw new InvalidOperationException($"no room {roomId}");
        return await Store.Events.AppendAsync(
            new EventBatch(roomId, room.LastPosition, events) { StateChanges = stateChanges ?? [] }, Ct);
    }

    /// <summary>Appends state events and points their slots at them.</summary>
    protected Task<IReadOnlyList<AppendedEvent>> AppendStateAsync(string roomId, params NewEvent[] events) =>
        AppendAsync(roomId, events, events.Select(e => new StateChange(e.Type, e.StateKey!, e.EventId)).ToList());

    /// <summary>Appends <paramref name="count"/> messages named prefix1, prefix2, ...</summary>
    protected Task<IReadOnlyList<AppendedEvent>> AppendMessagesAsync(string roomId, string prefix, int count) =>
        AppendAsync(roomId, Enumerable.Range(1, count).Select(i => TestEvents.Message($"${prefix}{i}")).ToList());
}
