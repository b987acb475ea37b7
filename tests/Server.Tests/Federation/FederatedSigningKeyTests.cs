using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Keys;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Cross-signing keys across servers (<c>m.signing_key_update</c> EDUs): a cross-signing upload on A reaches the users
/// of B who share a room with the uploader as a device-list change, and B's <c>/keys/query</c> then answers the new
/// keys; a user of B who shares no room hears nothing.
/// </summary>
public abstract class FederatedSigningKeyTests<TPair>(TPair pair) where TPair : FederationPair
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_cross_signing_upload_on_A_reaches_B_users_sharing_a_room_and_shows_in_their_key_queries()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var carol = await UserAsync(pair.B, "carol");
        var roomId = await alice.Rooms.CreateRoomAsync(new { preset = "public_chat" });
        await bob.Rooms.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={RoomsClient.Escape(pair.NameOfA)}", new { });
        var bobSince = await NextBatchAsync(bob);
        var carolSince = await NextBatchAsync(carol);

        using var master = new SigningKey();
        using var selfSigning = new SigningKey();
        await KeysOkAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", new JsonObject
        {
            ["master_key"] = CrossSigningKey(alice, master, "master"),
            ["self_signing_key"] = master.Sign(CrossSigningKey(alice, selfSigning, "self_signing"), alice.UserId, master.PublicKey),
        });

        // Only the signing key update tells B: an upload of cross-signing keys changes no device.
        var deadline = DateTime.UtcNow + Patience;
        while (!Changed(await bob.SyncSinceAsync(bobSince, "timeout=1000"), out bobSince).Contains(alice.UserId))
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for alice in bob's device_lists.changed.");

        var query = await KeysOkAsync(bob, HttpMethod.Post, "/keys/query", new JsonObject { ["device_keys"] = new JsonObject { [alice.UserId] = new JsonArray() } });
        Assert.Equal(master.PublicKey,
            query.GetProperty("master_keys").GetProperty(alice.UserId).GetProperty("keys").GetProperty("ed25519:" + master.PublicKey).GetString());
        Assert.Equal(selfSigning.PublicKey,
            query.GetProperty("self_signing_keys").GetProperty(alice.UserId).GetProperty("keys").GetProperty("ed25519:" + selfSigning.PublicKey).GetString());

        Assert.DoesNotContain(alice.UserId, Changed(await carol.SyncSinceAsync(carolSince, "timeout=0"), out _));
    }

    private static List<string> Changed(JsonElement sync, out string nextBatch)
    {
        nextBatch = sync.GetProperty("next_batch").GetString()!;
        return sync.TryGetProperty("device_lists", out var lists) && lists.TryGetProperty("changed", out var changed)
            ? changed.EnumerateArray().Select(u => u.GetString()!).ToList()
            : [];
    }

    private static JsonObject CrossSigningKey(SyncUser user, SigningKey key, string usage) => new()
    {
        ["user_id"] = user.UserId,
        ["usage"] = new JsonArray(usage),
        ["keys"] = new JsonObject { ["ed25519:" + key.PublicKey] = key.PublicKey },
    };

    private static async Task<JsonElement> KeysOkAsync(SyncUser user, HttpMethod method, string path, JsonNode? body)
    {
        var response = await user.SendAsync(method, "/_matrix/client/v3" + path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<string> NextBatchAsync(SyncUser user) => (await user.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }
}

public sealed class SqliteFederatedSigningKeyTests(SqliteFederationPair pair)
    : FederatedSigningKeyTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedSigningKeyTests(PostgresFederationPair pair)
    : FederatedSigningKeyTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
