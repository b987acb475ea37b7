using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Keys;

/// <summary>POST /keys/device_signing/upload and /keys/signatures/upload, and the keys /keys/query then shows.</summary>
public abstract class CrossSigningTests : KeysTestBase
{
    private sealed class CrossSigning(SyncUser user) : IDisposable
    {
        public SigningKey Master { get; } = new();
        public SigningKey SelfSigning { get; } = new();
        public SigningKey UserSigning { get; } = new();

        public JsonObject Key(SigningKey key, string usage, SigningKey? signedBy = null)
        {
            var json = new JsonObject
            {
                ["user_id"] = user.UserId,
                ["usage"] = new JsonArray(usage),
                ["keys"] = new JsonObject { ["ed25519:" + key.PublicKey] = key.PublicKey },
            };
            return signedBy is null ? json : signedBy.Sign(json, user.UserId, signedBy.PublicKey);
        }

        public JsonObject Body(SigningKey? signer = null) => new()
        {
            ["master_key"] = Key(Master, "master"),
            ["self_signing_key"] = Key(SelfSigning, "self_signing", signer ?? Master),
            ["user_signing_key"] = Key(UserSigning, "user_signing", signer ?? Master),
        };

        public void Dispose()
        {
            Master.Dispose();
            SelfSigning.Dispose();
            UserSigning.Dispose();
        }
    }

    private async Task<HttpResponseMessage> UploadCrossSigningAsync(SyncUser user, JsonObject body) =>
        await user.SendAsync(HttpMethod.Post, "/_matrix/client/v3/keys/device_signing/upload", body);

    [Fact]
    public async Task The_first_upload_needs_no_auth_and_others_see_master_and_self_signing_but_not_user_signing_keys()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var keys = new CrossSigning(alice);

        var response = await UploadCrossSigningAsync(alice, keys.Body());
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        var own = await QueryAsync(alice, alice.UserId);
        Assert.Equal(keys.Master.PublicKey, own.GetProperty("master_keys").GetProperty(alice.UserId).GetProperty("keys").EnumerateObject().Single().Value.GetString());
        Assert.True(own.GetProperty("self_signing_keys").TryGetProperty(alice.UserId, out _));
        Assert.True(own.GetProperty("user_signing_keys").TryGetProperty(alice.UserId, out _));

        var seenByBob = await QueryAsync(bob, alice.UserId);
        Assert.True(seenByBob.GetProperty("master_keys").TryGetProperty(alice.UserId, out _));
        Assert.True(seenByBob.GetProperty("self_signing_keys").GetProperty(alice.UserId).GetProperty("signatures").GetProperty(alice.UserId)
            .TryGetProperty("ed25519:" + keys.Master.PublicKey, out _));
        Assert.False(seenByBob.GetProperty("user_signing_keys").TryGetProperty(alice.UserId, out _));
    }

    [Fact]
    public async Task Deactivating_the_account_removes_its_keys_from_others_queries_and_its_key_backups()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var aliceDevice = new SigningKey();
        using var keys = new CrossSigning(alice);
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, aliceDevice) });
        Assert.Equal(HttpStatusCode.OK, (await UploadCrossSigningAsync(alice, keys.Body())).StatusCode);
        await OkAsync(alice, HttpMethod.Post, "/room_keys/version", new JsonObject
        {
            ["algorithm"] = "m.megolm_backup.v1.curve25519-aes-sha2",
            ["auth_data"] = new JsonObject { ["public_key"] = "backupKey" },
        });
        await OkAsync(alice, HttpMethod.Put, "/room_keys/keys/!room:localhost/session?version=1", new JsonObject
        {
            ["first_message_index"] = 0,
            ["forwarded_count"] = 0,
            ["is_verified"] = true,
            ["session_data"] = new JsonObject { ["ephemeral"] = "e", ["ciphertext"] = "c", ["mac"] = "m" },
        });
        Assert.True((await QueryAsync(bob, alice.UserId)).GetProperty("master_keys").TryGetProperty(alice.UserId, out _));

        await OkAsync(alice, HttpMethod.Post, "/account/deactivate", new JsonObject
        {
            ["auth"] = new JsonObject
            {
                ["type"] = "m.login.password",
                ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = alice.UserId },
                ["password"] = Password,
            },
        });

        var seenByBob = await QueryAsync(bob, alice.UserId);
        Assert.False(seenByBob.GetProperty("master_keys").TryGetProperty(alice.UserId, out _));
        Assert.False(seenByBob.GetProperty("self_signing_keys").TryGetProperty(alice.UserId, out _));
        Assert.Empty(seenByBob.GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject());
        var store = Server.App.Services.GetRequiredService<IHomeServerStore>();
        Assert.Null(await store.KeyBackups.GetCurrentVersionAsync(alice.UserId, CancellationToken.None));
        Assert.Empty(await store.KeyBackups.GetKeysAsync(alice.UserId, 1, null, null, CancellationToken.None));
    }

    [Fact]
    public async Task Replacing_the_keys_needs_user_interactive_auth_with_the_password()
    {
        var alice = await RegisterAsync("alice");
        using var first = new CrossSigning(alice);
        using var second = new CrossSigning(alice);
        Assert.Equal(HttpStatusCode.OK, (await UploadCrossSigningAsync(alice, first.Body())).StatusCode);

        var challenge = await UploadCrossSigningAsync(alice, second.Body());
        Assert.Equal(HttpStatusCode.Unauthorized, challenge.StatusCode);
        var session = (await challenge.ReadJsonAsync()).GetProperty("session").GetString();
        var stillFirst = await QueryAsync(alice, alice.UserId);
        Assert.True(stillFirst.GetProperty("master_keys").GetProperty(alice.UserId).GetProperty("keys").TryGetProperty("ed25519:" + first.Master.PublicKey, out _));

        var body = second.Body();
        body["auth"] = new JsonObject
        {
            ["type"] = "m.login.password",
            ["identifier"] = new JsonObject { ["type"] = "m.id.user", ["user"] = alice.UserId },
            ["password"] = Password,
            ["session"] = session,
        };
        var done = await UploadCrossSigningAsync(alice, body);
        Assert.True(done.StatusCode == HttpStatusCode.OK, await done.Content.ReadAsStringAsync());
        var replaced = await QueryAsync(alice, alice.UserId);
        Assert.True(replaced.GetProperty("master_keys").GetProperty(alice.UserId).GetProperty("keys").TryGetProperty("ed25519:" + second.Master.PublicKey, out _));
    }

    [Fact]
    public async Task Keys_not_signed_by_the_master_key_or_not_the_users_are_refused_and_nothing_is_stored()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var keys = new CrossSigning(alice);
        using var stranger = new SigningKey();

        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", keys.Body(signer: stranger).ToJsonString(),
            HttpStatusCode.BadRequest, "M_INVALID_SIGNATURE");
        var unsigned = keys.Body();
        unsigned["self_signing_key"] = keys.Key(keys.SelfSigning, "self_signing");
        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", unsigned.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_SIGNATURE");
        var bobs = keys.Body();
        bobs["master_key"]!["user_id"] = bob.UserId;
        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", bobs.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        var wrongUsage = keys.Body();
        wrongUsage["master_key"]!["usage"] = new JsonArray("self_signing");
        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", wrongUsage.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        var twoKeys = keys.Body();
        twoKeys["master_key"]!["keys"]!["ed25519:other"] = "other";
        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", twoKeys.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload",
            new JsonObject { ["self_signing_key"] = keys.Key(keys.SelfSigning, "self_signing", keys.Master) }.ToJsonString(),
            HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await FailsAsync(alice, HttpMethod.Post, "/keys/device_signing/upload", """{"master_key":"key"}""", HttpStatusCode.BadRequest, "M_BAD_JSON");

        var query = await QueryAsync(alice, alice.UserId);
        Assert.Empty(query.GetProperty("master_keys").EnumerateObject());
        Assert.Empty(query.GetProperty("self_signing_keys").EnumerateObject());
    }

    [Fact]
    public async Task Signatures_of_own_devices_and_others_master_keys_are_verified_stored_and_queried()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var aliceDevice = new SigningKey();
        using var aliceKeys = new CrossSigning(alice);
        using var bobKeys = new CrossSigning(bob);
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, aliceDevice) });
        Assert.Equal(HttpStatusCode.OK, (await UploadCrossSigningAsync(alice, aliceKeys.Body())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await UploadCrossSigningAsync(bob, bobKeys.Body())).StatusCode);

        // Alice's device signed by her self-signing key; Bob's master key signed by her user-signing key.
        var device = aliceKeys.SelfSigning.Sign(DeviceKeys(alice, aliceDevice), alice.UserId, aliceKeys.SelfSigning.PublicKey);
        var bobMaster = aliceKeys.UserSigning.Sign(bobKeys.Key(bobKeys.Master, "master"), alice.UserId, aliceKeys.UserSigning.PublicKey);
        var forged = (JsonObject)device.DeepClone();
        forged["device_id"] = "FORGED";
        var wrongSigner = new JsonObject(DeviceKeys(alice, aliceDevice).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        using var stranger = new SigningKey();
        wrongSigner = stranger.Sign(wrongSigner, alice.UserId, aliceKeys.SelfSigning.PublicKey);
        var result = await OkAsync(alice, HttpMethod.Post, "/keys/signatures/upload", new JsonObject
        {
            [alice.UserId] = new JsonObject { [alice.DeviceId] = device, ["UNKNOWNDEVICE"] = forged },
            [bob.UserId] = new JsonObject { [bobKeys.Master.PublicKey] = bobMaster },
        });
        Assert.Equal(["UNKNOWNDEVICE"], result.GetProperty("failures").GetProperty(alice.UserId).EnumerateObject().Select(p => p.Name));
        Assert.False(result.GetProperty("failures").TryGetProperty(bob.UserId, out _));

        var bad = await OkAsync(alice, HttpMethod.Post, "/keys/signatures/upload",
            new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = wrongSigner } });
        Assert.Equal("M_INVALID_SIGNATURE", bad.GetProperty("failures").GetProperty(alice.UserId).GetProperty(alice.DeviceId).GetProperty("errcode").GetString());

        // Anyone sees the device's new signature; Bob's master key shows Alice's signature to Alice only.
        var seenByBob = await QueryAsync(bob, alice.UserId, bob.UserId);
        var signatures = seenByBob.GetProperty("device_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId).GetProperty("signatures").GetProperty(alice.UserId);
        Assert.Equal(device["signatures"]![alice.UserId]!["ed25519:" + aliceKeys.SelfSigning.PublicKey]!.GetValue<string>(),
            signatures.GetProperty("ed25519:" + aliceKeys.SelfSigning.PublicKey).GetString());
        Assert.True(signatures.TryGetProperty("ed25519:" + alice.DeviceId, out _), "the device's own signature stays");
        var bobMasterSeenByBob = seenByBob.GetProperty("master_keys").GetProperty(bob.UserId);
        Assert.False(bobMasterSeenByBob.TryGetProperty("signatures", out var bobsView) && bobsView.TryGetProperty(alice.UserId, out _));
        var seenByAlice = await QueryAsync(alice, bob.UserId);
        Assert.True(seenByAlice.GetProperty("master_keys").GetProperty(bob.UserId).GetProperty("signatures").GetProperty(alice.UserId)
            .TryGetProperty("ed25519:" + aliceKeys.UserSigning.PublicKey, out _));
    }

    [Fact]
    public async Task A_signature_of_a_changed_key_object_is_refused()
    {
        var alice = await RegisterAsync("alice");
        using var aliceDevice = new SigningKey();
        using var aliceKeys = new CrossSigning(alice);
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, aliceDevice) });
        Assert.Equal(HttpStatusCode.OK, (await UploadCrossSigningAsync(alice, aliceKeys.Body())).StatusCode);

        var changed = DeviceKeys(alice, aliceDevice);
        changed["algorithms"] = new JsonArray("m.olm.v1.curve25519-aes-sha2");
        changed = aliceKeys.SelfSigning.Sign(changed, alice.UserId, aliceKeys.SelfSigning.PublicKey);
        var result = await OkAsync(alice, HttpMethod.Post, "/keys/signatures/upload",
            new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = changed } });
        Assert.Equal("M_INVALID_SIGNATURE", result.GetProperty("failures").GetProperty(alice.UserId).GetProperty(alice.DeviceId).GetProperty("errcode").GetString());
        var signatures = (await QueryAsync(alice, alice.UserId)).GetProperty("device_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId)
            .GetProperty("signatures").GetProperty(alice.UserId);
        Assert.False(signatures.TryGetProperty("ed25519:" + aliceKeys.SelfSigning.PublicKey, out _));
    }
}

public sealed class SqliteCrossSigningTests : CrossSigningTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresCrossSigningTests : CrossSigningTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
