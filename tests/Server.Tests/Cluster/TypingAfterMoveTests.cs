using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// A reader's sync grain moves when its silo is drained; its next sync, continuing from a token of the old activation,
/// carries the room's current typing (typing lives in memory only, so the new activation reads it from the room).
/// </summary>
public sealed class TypingAfterMoveTests : IAsyncLifetime
{
    private const string ServerName = "typing.test";
    private ProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ProcessCluster.CreateAsync(ServerName);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task After_the_silo_of_the_readers_sync_grain_is_drained_its_next_sync_carries_the_current_typing()
    {
        var silos = new List<ServerProcess>();
        for (var i = 0; i < 2; i++) silos.Add((await _cluster.StartAsync()).Process);
        var (_, gateway) = await _cluster.StartAsync("--Cluster:Role=gateway");
        var typer = await ProcessCluster.RegisterAsync(gateway, "typer");
        var reader = await ProcessCluster.RegisterAsync(gateway, "reader");
        var roomId = (await ProcessCluster.CallAsync(gateway, HttpMethod.Post, "/_matrix/client/v3/createRoom", typer, new { preset = "public_chat" }))
            .GetProperty("room_id").GetString()!;
        await ProcessCluster.CallAsync(gateway, HttpMethod.Post, $"/_matrix/client/v3/join/{Uri.EscapeDataString(roomId)}", reader, new { });

        var initial = await SyncAsync(gateway, reader, since: null);
        await SetTypingAsync(gateway, typer, roomId, true);
        var typing = await SyncUntilAsync(gateway, reader, NextBatch(initial), roomId, ["@typer:" + ServerName]);

        // Which silo hosts the reader's sync grain is not visible from outside: drain each in turn, each replaced first,
        // so the grain (and the room) certainly move. The room's new activation knows nobody typing until the typer types.
        for (var i = 0; i < silos.Count; i++)
        {
            var replacement = (await _cluster.StartAsync()).Process;
            silos[i].SendSigterm();
            Assert.Equal(0, await silos[i].WaitForExitAsync(ProcessCluster.StartTimeout));
            silos[i] = replacement;
        }
        await ProcessCluster.RetryWhileUnavailableAsync(() => SetTypingAsync(gateway, typer, roomId, true));

        var moved = await ProcessCluster.RetryWhileUnavailableAsync(() => SyncAsync(gateway, reader, NextBatch(typing), timeoutMs: 0));
        Assert.Equal(["@typer:" + ServerName], TypingOf(moved, roomId));
        await SetTypingAsync(gateway, typer, roomId, false);
        await SyncUntilAsync(gateway, reader, NextBatch(moved), roomId, []);
    }

    private static Task<JsonElement> SetTypingAsync(HttpClient gateway, string token, string roomId, bool typing) =>
        ProcessCluster.CallAsync(gateway, HttpMethod.Put,
            $"/_matrix/client/v3/rooms/{Uri.EscapeDataString(roomId)}/typing/{Uri.EscapeDataString("@typer:" + ServerName)}", token,
            typing ? new { typing = true, timeout = 60000 } : new { typing = false });

    private static Task<JsonElement> SyncAsync(HttpClient gateway, string token, string? since, int timeoutMs = 5000) =>
        ProcessCluster.CallAsync(gateway, HttpMethod.Get,
            since is null ? "/_matrix/client/v3/sync" : $"/_matrix/client/v3/sync?timeout={timeoutMs}&since={Uri.EscapeDataString(since)}", token);

    /// <summary>Long-polls from <paramref name="since"/> until the room's typing list is <paramref name="expected"/>, within 10 s.</summary>
    private static async Task<JsonElement> SyncUntilAsync(HttpClient gateway, string token, string since, string roomId, List<string> expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var sync = await SyncAsync(gateway, token, since);
            if (TypingOf(sync, roomId) is { } typing && typing.SequenceEqual(expected)) return sync;
            Assert.True(DateTime.UtcNow < deadline, $"the typing list [{string.Join(", ", expected)}] did not arrive within 10 s");
            since = NextBatch(sync);
        }
    }

    private static string NextBatch(JsonElement sync) => sync.GetProperty("next_batch").GetString()!;

    private static List<string>? TypingOf(JsonElement sync, string roomId) =>
        sync.GetProperty("rooms").GetProperty("join").TryGetProperty(roomId, out var room)
            ? room.GetProperty("ephemeral").GetProperty("events").EnumerateArray()
                .Where(e => e.GetProperty("type").GetString() == "m.typing")
                .Select(e => e.GetProperty("content").GetProperty("user_ids").EnumerateArray().Select(u => u.GetString()!).ToList())
                .LastOrDefault()
            : null;
}
