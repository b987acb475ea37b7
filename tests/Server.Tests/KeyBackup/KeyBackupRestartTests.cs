using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.KeyBackup;

/// <summary>A backup, its keys, etag and current version are the same after the server restarts on the same data.</summary>
public abstract class KeyBackupRestartTests : SyncTestBase
{
    private static JsonNode? Node(object body) => JsonSerializer.SerializeToNode(body);

    private static async Task<JsonElement> OkAsync(SyncUser user, HttpMethod method, string path, object? body = null)
    {
        var response = await user.SendAsync(method, "/_matrix/client/v3" + path, body is null ? null : Node(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task The_backup_survives_a_restart()
    {
        var alice = await RegisterAsync("alice");
        var version = new { algorithm = KeyBackupTests.Algorithm, auth_data = KeyBackupTests.AuthData("pk") };
        Assert.Equal("1", (await OkAsync(alice, HttpMethod.Post, "/room_keys/version", version)).GetProperty("version").GetString());
        Assert.Equal("2", (await OkAsync(alice, HttpMethod.Post, "/room_keys/version", version)).GetProperty("version").GetString());
        var stored = await OkAsync(alice, HttpMethod.Put, "/room_keys/keys/%21r%3Alocalhost/s1?version=2", KeyBackupTests.KeyData(2, true, 0, "kept"));
        var before = await OkAsync(alice, HttpMethod.Get, "/room_keys/version");

        await RestartAsync();
        alice = alice.On(Server);

        var after = await OkAsync(alice, HttpMethod.Get, "/room_keys/version");
        Assert.Equal(before.GetRawText(), after.GetRawText());
        Assert.Equal(stored.GetProperty("etag").GetString(), after.GetProperty("etag").GetString());
        var key = await OkAsync(alice, HttpMethod.Get, "/room_keys/keys/%21r%3Alocalhost/s1?version=2");
        Assert.Equal("kept", key.GetProperty("session_data").GetProperty("ciphertext").GetString());

        // The rules still hold on the stored data: a worse key is ignored, a stale version refused, numbers not reused.
        var worse = await OkAsync(alice, HttpMethod.Put, "/room_keys/keys/%21r%3Alocalhost/s1?version=2", KeyBackupTests.KeyData(0, false, 0, "worse"));
        Assert.Equal(stored.GetRawText(), worse.GetRawText());
        var stale = await alice.SendAsync(HttpMethod.Put, "/_matrix/client/v3/room_keys/keys/%21r%3Alocalhost/s1?version=1", Node(KeyBackupTests.KeyData(0, true, 0, "stale")));
        Assert.Equal(HttpStatusCode.Forbidden, stale.StatusCode);
        Assert.Equal("2", (await stale.ReadJsonAsync()).GetProperty("current_version").GetString());
        Assert.Equal("3", (await OkAsync(alice, HttpMethod.Post, "/room_keys/version", version)).GetProperty("version").GetString());
    }
}

public sealed class SqliteKeyBackupRestartTests : KeyBackupRestartTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresKeyBackupRestartTests : KeyBackupRestartTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
