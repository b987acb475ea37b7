using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Keys;
using HomeServer.Server.Tests.Sync;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// End-to-end keys across servers: a user of B asks B for the keys of a user of A, and B asks A
/// (<c>/user/keys/query</c>, <c>/user/keys/claim</c>); A answers other servers about its own users only; a server that
/// cannot be reached or does not answer in time is a <c>failures</c> entry of the client's answer, never an error.
/// </summary>
public abstract class FederatedKeysTests<TPair>(TPair pair) where TPair : FederationPair
{
    [Fact]
    public async Task A_user_of_B_gets_the_device_and_cross_signing_keys_of_a_user_of_A_and_claims_its_one_time_keys()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        using var device = new SigningKey();
        using var master = new SigningKey();
        using var selfSigning = new SigningKey();
        await KeysOkAsync(alice, HttpMethod.Put, $"/devices/{alice.DeviceId}", new JsonObject { ["display_name"] = "Alice's phone" });
        await KeysOkAsync(alice, HttpMethod.Post, "/keys/upload", new JsonObject
        {
            ["device_keys"] = KeysTestBase.DeviceKeys(alice, device),
            ["one_time_keys"] = KeysTestBase.OneTimeKeys(alice, device, "a", 2),
        });
        await KeysOkAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", new JsonObject
        {
            ["master_key"] = CrossSigningKey(alice, master, "master"),
            ["self_signing_key"] = master.Sign(CrossSigningKey(alice, selfSigning, "self_signing"), alice.UserId, master.PublicKey),
        });

        var query = await KeysOkAsync(bob, HttpMethod.Post, "/keys/query", new JsonObject { ["device_keys"] = new JsonObject { [alice.UserId] = new JsonArray() } });

        Assert.Empty(query.GetProperty("failures").EnumerateObject());
        var keys = query.GetProperty("device_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId);
        Assert.Equal(alice.UserId, keys.GetProperty("user_id").GetString());
        Assert.Equal(device.PublicKey, keys.GetProperty("keys").GetProperty("ed25519:" + alice.DeviceId).GetString());
        Assert.True(keys.GetProperty("signatures").GetProperty(alice.UserId).TryGetProperty("ed25519:" + alice.DeviceId, out _));
        Assert.Equal("Alice's phone", keys.GetProperty("unsigned").GetProperty("device_display_name").GetString());
        Assert.Equal(master.PublicKey, query.GetProperty("master_keys").GetProperty(alice.UserId).GetProperty("keys").GetProperty("ed25519:" + master.PublicKey).GetString());
        Assert.Equal(selfSigning.PublicKey,
            query.GetProperty("self_signing_keys").GetProperty(alice.UserId).GetProperty("keys").GetProperty("ed25519:" + selfSigning.PublicKey).GetString());

        var claimBody = new JsonObject { ["one_time_keys"] = new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519" } } };
        var first = await KeysOkAsync(bob, HttpMethod.Post, "/keys/claim", claimBody);
        var second = await KeysOkAsync(bob, HttpMethod.Post, "/keys/claim", claimBody);
        var third = await KeysOkAsync(bob, HttpMethod.Post, "/keys/claim", claimBody);

        Assert.Empty(first.GetProperty("failures").EnumerateObject());
        var firstKey = Assert.Single(first.GetProperty("one_time_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId).EnumerateObject());
        var secondKey = Assert.Single(second.GetProperty("one_time_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId).EnumerateObject());
        Assert.StartsWith("signed_curve25519:a", firstKey.Name);
        Assert.NotEqual(firstKey.Name, secondKey.Name);
        Assert.StartsWith("otk-a-", firstKey.Value.GetProperty("key").GetString());
        Assert.False(third.GetProperty("one_time_keys").TryGetProperty(alice.UserId, out _));
        // A counts what was claimed through B: the device's client sees it has no key left.
        var counts = await KeysOkAsync(alice, HttpMethod.Post, "/keys/upload", new JsonObject());
        Assert.Equal(0, counts.GetProperty("one_time_key_counts").GetProperty("signed_curve25519").GetInt32());
    }

    [Fact]
    public async Task Another_server_reads_a_local_users_devices_with_keys_and_cross_signing_keys()
    {
        var bob = await UserAsync(pair.B, "bob");
        using var device = new SigningKey();
        using var master = new SigningKey();
        using var selfSigning = new SigningKey();
        await KeysOkAsync(bob, HttpMethod.Put, $"/devices/{bob.DeviceId}", new JsonObject { ["display_name"] = "Bob's laptop" });
        await KeysOkAsync(bob, HttpMethod.Post, "/keys/upload", new JsonObject { ["device_keys"] = KeysTestBase.DeviceKeys(bob, device) });
        var before = await FederationOkAsync(HttpMethod.Get, $"/_matrix/federation/v1/user/devices/{Uri.EscapeDataString(bob.UserId)}", null);
        await KeysOkAsync(bob, HttpMethod.Post, "/keys/device_signing/upload", new JsonObject
        {
            ["master_key"] = CrossSigningKey(bob, master, "master"),
            ["self_signing_key"] = master.Sign(CrossSigningKey(bob, selfSigning, "self_signing"), bob.UserId, master.PublicKey),
        });

        var devices = await FederationOkAsync(HttpMethod.Get, $"/_matrix/federation/v1/user/devices/{Uri.EscapeDataString(bob.UserId)}", null);

        Assert.Equal(bob.UserId, devices["user_id"]!.GetValue<string>());
        Assert.True(devices["stream_id"]!.GetValue<long>() > before["stream_id"]!.GetValue<long>());
        var only = Assert.Single(devices["devices"]!.AsArray())!;
        Assert.Equal(bob.DeviceId, only["device_id"]!.GetValue<string>());
        Assert.Equal("Bob's laptop", only["device_display_name"]!.GetValue<string>());
        Assert.Equal(device.PublicKey, only["keys"]!["keys"]!["ed25519:" + bob.DeviceId]!.GetValue<string>());
        Assert.Equal(master.PublicKey, devices["master_key"]!["keys"]!["ed25519:" + master.PublicKey]!.GetValue<string>());
        Assert.Equal(selfSigning.PublicKey, devices["self_signing_key"]!["keys"]!["ed25519:" + selfSigning.PublicKey]!.GetValue<string>());

        var query = await FederationOkAsync(HttpMethod.Post, "/_matrix/federation/v1/user/keys/query",
            new JsonObject { ["device_keys"] = new JsonObject { [bob.UserId] = new JsonArray() } });
        Assert.Equal(device.PublicKey, query["device_keys"]![bob.UserId]![bob.DeviceId]!["keys"]!["ed25519:" + bob.DeviceId]!.GetValue<string>());
        Assert.NotNull(query["master_keys"]![bob.UserId]);
        Assert.NotNull(query["self_signing_keys"]![bob.UserId]);
        Assert.Null(query["user_signing_keys"]);
        Assert.Null(query["failures"]);

        // A server that does not know the user: an empty device list.
        var unknown = $"@nobody-{Guid.NewGuid():N}:{pair.NameOfB}";
        var none = await FederationOkAsync(HttpMethod.Get, $"/_matrix/federation/v1/user/devices/{Uri.EscapeDataString(unknown)}", null);
        Assert.Empty(none["devices"]!.AsArray());
    }

    [Fact]
    public async Task The_inbound_endpoints_refuse_users_of_other_servers_and_malformed_bodies()
    {
        var other = pair.RemoteUser("carol");

        await FederationFailsAsync(HttpMethod.Get, $"/_matrix/federation/v1/user/devices/{Uri.EscapeDataString(other)}", null, "M_INVALID_PARAM");
        await FederationFailsAsync(HttpMethod.Post, "/_matrix/federation/v1/user/keys/query",
            new JsonObject { ["device_keys"] = new JsonObject { [other] = new JsonArray() } }, "M_INVALID_PARAM");
        await FederationFailsAsync(HttpMethod.Post, "/_matrix/federation/v1/user/keys/claim",
            new JsonObject { ["one_time_keys"] = new JsonObject { [other] = new JsonObject { ["DEVICE"] = "signed_curve25519" } } }, "M_INVALID_PARAM");
        await FederationFailsAsync(HttpMethod.Post, "/_matrix/federation/v1/user/keys/query", new JsonObject { ["device_keys"] = 1 }, "M_BAD_JSON");
        await FederationFailsAsync(HttpMethod.Post, "/_matrix/federation/v1/user/keys/claim", new JsonObject(), "M_BAD_JSON");
    }

    [Fact]
    public async Task A_server_that_cannot_be_reached_or_does_not_answer_in_time_is_a_failure_and_the_others_still_answer()
    {
        var bob = await UserAsync(pair.B, "bob");
        var alice = await UserAsync(pair.A, "alice");
        using var device = new SigningKey();
        await KeysOkAsync(alice, HttpMethod.Post, "/keys/upload", new JsonObject { ["device_keys"] = KeysTestBase.DeviceKeys(alice, device) });
        // A port that accepts connections and never answers, and one where nothing listens.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var silentServer = $"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var closedServer = $"127.0.0.1:{ClosedPort()}";

        var started = DateTime.UtcNow;
        var query = await KeysOkAsync(bob, HttpMethod.Post, "/keys/query", new JsonObject
        {
            ["timeout"] = 1500,
            ["device_keys"] = new JsonObject
            {
                [alice.UserId] = new JsonArray(),
                [$"@dave:{silentServer}"] = new JsonArray(),
                [$"@erin:{closedServer}"] = new JsonArray(),
            },
        });
        var claim = await KeysOkAsync(bob, HttpMethod.Post, "/keys/claim", new JsonObject
        {
            ["timeout"] = 1500,
            ["one_time_keys"] = new JsonObject { [$"@dave:{silentServer}"] = new JsonObject { ["DEVICE"] = "signed_curve25519" } },
        });

        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(9), "The client's timeout bounds the wait.");
        Assert.True(query.GetProperty("device_keys").GetProperty(alice.UserId).TryGetProperty(alice.DeviceId, out _));
        var failures = query.GetProperty("failures");
        Assert.Equal(new[] { closedServer, silentServer }.Order(StringComparer.Ordinal), failures.EnumerateObject().Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.Number, failures.GetProperty(silentServer).GetProperty("status").ValueKind);
        Assert.False(query.GetProperty("device_keys").TryGetProperty($"@dave:{silentServer}", out _));
        Assert.True(claim.GetProperty("failures").TryGetProperty(silentServer, out _));
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static JsonObject CrossSigningKey(SyncUser user, SigningKey key, string usage) => new()
    {
        ["user_id"] = user.UserId,
        ["usage"] = new JsonArray(usage),
        ["keys"] = new JsonObject { ["ed25519:" + key.PublicKey] = key.PublicKey },
    };

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }

    private static async Task<JsonElement> KeysOkAsync(SyncUser user, HttpMethod method, string path, JsonNode? body)
    {
        var response = await user.SendAsync(method, "/_matrix/client/v3" + path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<JsonObject> FederationOkAsync(HttpMethod method, string path, JsonObject? body)
    {
        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, method, path, body, CancellationToken.None);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(response.Body)}");
        return JsonNode.Parse(response.Body)!.AsObject();
    }

    private async Task FederationFailsAsync(HttpMethod method, string path, JsonObject? body, string errcode)
    {
        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, method, path, body, CancellationToken.None);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(response.Body)}");
        Assert.Equal(errcode, JsonNode.Parse(response.Body)!["errcode"]!.GetValue<string>());
    }
}

public sealed class SqliteFederatedKeysTests(SqliteFederationPair pair)
    : FederatedKeysTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedKeysTests(PostgresFederationPair pair)
    : FederatedKeysTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
