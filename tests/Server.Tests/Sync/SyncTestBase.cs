using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Sync;

/// <summary>A real server per test on the backend the subclass chooses, with users registered over HTTP.</summary>
public abstract class SyncTestBase : IAsyncLifetime
{
    protected StoreBackend Backend { get; private set; } = null!;
    protected RunningServer Server { get; private set; } = null!;
    protected StoreRooms Rooms { get; private set; } = null!;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    public async Task InitializeAsync()
    {
        Backend = await CreateBackendAsync();
        Server = await Backend.StartServerAsync();
        Rooms = new StoreRooms(Server);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Backend.DisposeAsync();
    }

    /// <summary>Stops the server and starts a new one on the same data.</summary>
    protected async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = await Backend.StartServerAsync();
        Rooms = new StoreRooms(Server);
    }

    protected Task<SyncUser> RegisterAsync(string localpart) => SyncUser.RegisterAsync(Server, localpart);

    protected static JsonElement Joined(JsonElement sync, string roomId) =>
        sync.GetProperty("rooms").GetProperty("join").GetProperty(roomId);

    protected static bool HasJoined(JsonElement sync, string roomId) =>
        sync.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out _);

    protected static JsonElement Timeline(JsonElement room) => room.GetProperty("timeline");

    protected static List<string> EventIds(JsonElement events) =>
        events.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()!).ToList();

    protected static List<string> Bodies(JsonElement room) =>
        Timeline(room).GetProperty("events").EnumerateArray()
            .Where(e => e.GetProperty("type").GetString() == "m.room.message")
            .Select(e => e.GetProperty("content").GetProperty("body").GetString()!)
            .ToList();

    protected static List<(string Type, string StateKey)> StateKeys(JsonElement room) =>
        room.GetProperty("state").GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("type").GetString()!, e.GetProperty("state_key").GetString()!))
            .ToList();

    protected static string NextBatch(JsonElement sync) => sync.GetProperty("next_batch").GetString()!;

    protected static int RoomCount(JsonElement sync, string section) =>
        sync.GetProperty("rooms").GetProperty(section).EnumerateObject().Count();
}
