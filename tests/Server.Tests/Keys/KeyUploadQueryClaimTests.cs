using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Keys;

/// <summary>POST /keys/upload, /keys/query and /keys/claim as a client sees them (client-server/keys.yaml).</summary>
public abstract class KeyUploadQueryClaimTests : KeysTestBase
{
    [Fact]
    public async Task Uploaded_device_keys_are_queried_back_with_the_display_name_and_one_time_keys_are_counted()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var ed = new SigningKey();
        var deviceKeys = DeviceKeys(alice, ed);

        var upload = await UploadAsync(alice, new JsonObject { ["device_keys"] = deviceKeys, ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 3) });
        Assert.Equal(3, Count(upload.GetProperty("one_time_key_counts")));

        var query = await QueryAsync(bob, alice.UserId);
        var device = query.GetProperty("device_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId);
        Assert.Equal(alice.UserId, device.GetProperty("user_id").GetString());
        Assert.Equal(ed.PublicKey, device.GetProperty("keys").GetProperty("ed25519:" + alice.DeviceId).GetString());
        Assert.Equal(deviceKeys["signatures"]![alice.UserId]!["ed25519:" + alice.DeviceId]!.GetValue<string>(),
            device.GetProperty("signatures").GetProperty(alice.UserId).GetProperty("ed25519:" + alice.DeviceId).GetString());
        // Registered without initial_device_display_name: the device has no name, unsigned is empty.
        Assert.Empty(device.GetProperty("unsigned").EnumerateObject());
        Assert.Empty(query.GetProperty("failures").EnumerateObject());

        // The same keys again (clients retry) are accepted and change nothing.
        var again = await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed), ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 3) });
        Assert.Equal(3, Count(again.GetProperty("one_time_key_counts")));
    }

    [Fact]
    public async Task Counts_always_list_signed_curve25519_and_an_empty_upload_is_accepted()
    {
        var alice = await RegisterAsync("alice");
        var counts = await CountsAsync(alice);
        Assert.Equal(0, counts.GetProperty("signed_curve25519").GetInt32());
    }

    [Fact]
    public async Task A_device_cannot_replace_its_identity_keys()
    {
        var alice = await RegisterAsync("alice");
        using var ed = new SigningKey();
        using var other = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed) });

        await FailsAsync(alice, HttpMethod.Post, "/keys/upload",
            new JsonObject { ["device_keys"] = DeviceKeys(alice, other) }.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await FailsAsync(alice, HttpMethod.Post, "/keys/upload",
            new JsonObject { ["device_keys"] = DeviceKeys(alice, ed, curve25519: "anotherCurveKey") }.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        var device = (await QueryAsync(alice, alice.UserId)).GetProperty("device_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId);
        Assert.Equal(ed.PublicKey, device.GetProperty("keys").GetProperty("ed25519:" + alice.DeviceId).GetString());
    }

    [Fact]
    public async Task Device_keys_of_another_user_or_device_are_refused_and_nothing_is_stored()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var ed = new SigningKey();

        var asBob = DeviceKeys(bob, ed);
        await FailsAsync(alice, HttpMethod.Post, "/keys/upload", new JsonObject { ["device_keys"] = asBob, ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 2) }.ToJsonString(),
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        var otherDevice = DeviceKeys(alice, ed, deviceId: "NOTMINE");
        await FailsAsync(alice, HttpMethod.Post, "/keys/upload", new JsonObject { ["device_keys"] = otherDevice }.ToJsonString(),
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        Assert.Empty((await QueryAsync(alice, alice.UserId, bob.UserId)).GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject());
        Assert.Equal(0, Count(await CountsAsync(alice)));
    }

    public static TheoryData<string, string> MalformedUploads => new()
    {
        { """{"device_keys":"keys"}""", "M_BAD_JSON" },
        { """{"device_keys":{"user_id":"@alice:localhost","device_id":"DEV","algorithms":"m.olm","keys":{},"signatures":{}}}""", "M_BAD_JSON" },
        { """{"device_keys":{"user_id":"@alice:localhost","device_id":"DEV","algorithms":[],"keys":{"ed25519DEV":"k"},"signatures":{}}}""", "M_BAD_JSON" },
        { """{"device_keys":{"user_id":"@alice:localhost","device_id":"DEV","algorithms":[],"keys":{"ed25519:DEV":5},"signatures":{}}}""", "M_BAD_JSON" },
        { """{"device_keys":{"user_id":"@alice:localhost","device_id":"DEV","algorithms":[],"keys":{"ed25519:DEV":"k"}}}""", "M_BAD_JSON" },
        { """{"device_keys":{"user_id":"@alice:localhost","device_id":"DEV","algorithms":[],"keys":{"ed25519:DEV":"k"},"signatures":{"@alice:localhost":{"ed25519:DEV":1}}}}""", "M_BAD_JSON" },
        { """{"device_keys":{"device_id":"DEV","algorithms":[],"keys":{},"signatures":{}}}""", "M_BAD_JSON" },
        { """{"one_time_keys":[]}""", "M_BAD_JSON" },
        { """{"one_time_keys":{"signed_curve25519":"k"}}""", "M_BAD_JSON" },
        { """{"one_time_keys":{":AAA":"k"}}""", "M_BAD_JSON" },
        { """{"one_time_keys":{"signed_curve25519:AAA":7}}""", "M_BAD_JSON" },
        { """{"one_time_keys":{"signed_curve25519:AAA":["k"]}}""", "M_BAD_JSON" },
        { """{"one_time_keys":{"signed_curve25519:AAA":{"signatures":{}}}}""", "M_BAD_JSON" },
        { """{"one_time_keys":{"signed_curve25519:AAA":{"key":"k","signatures":"sig"}}}""", "M_BAD_JSON" },
        { """{"fallback_keys":{"signed_curve25519:F":{"key":"k"},"signed_curve25519:G":{"key":"l"}}}""", "M_INVALID_PARAM" },
        { """{"fallback_keys":{"signed_curve25519:F":true}}""", "M_BAD_JSON" },
    };

    [Theory]
    [MemberData(nameof(MalformedUploads))]
    public async Task Malformed_uploads_are_refused_with_the_spec_error_and_nothing_is_stored(string template, string errcode)
    {
        var alice = await RegisterAsync("alice");
        var json = template.Replace("@alice:localhost", alice.UserId).Replace("\"DEV\"", $"\"{alice.DeviceId}\"")
            .Replace(":DEV\"", $":{alice.DeviceId}\"");
        // A valid one-time key in the same body must not be stored either.
        var body = JsonNode.Parse(json)!.AsObject();
        if (!body.ContainsKey("one_time_keys")) body["one_time_keys"] = new JsonObject { ["signed_curve25519:OK"] = new JsonObject { ["key"] = "k" } };

        await FailsAsync(alice, HttpMethod.Post, "/keys/upload", body.ToJsonString(), HttpStatusCode.BadRequest, errcode);

        Assert.Equal(0, Count(await CountsAsync(alice)));
        Assert.Empty((await QueryAsync(alice, alice.UserId)).GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject());
    }

    [Fact]
    public async Task Re_uploading_a_one_time_key_id_with_other_content_is_refused()
    {
        var alice = await RegisterAsync("alice");
        using var ed = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 2) });

        var changed = OneTimeKeys(alice, ed, "A", 1);
        changed["signed_curve25519:A0"]!["key"] = "replaced";
        changed["signed_curve25519:NEW"] = new JsonObject { ["key"] = "new" };
        await FailsAsync(alice, HttpMethod.Post, "/keys/upload", new JsonObject { ["one_time_keys"] = changed }.ToJsonString(),
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");

        Assert.Equal(2, Count(await CountsAsync(alice)));
    }

    [Fact]
    public async Task Claims_hand_out_each_key_once_then_the_fallback_key_and_leave_out_unknown_users_and_devices()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var ed = new SigningKey();
        await UploadAsync(alice, new JsonObject
        {
            ["device_keys"] = DeviceKeys(alice, ed),
            ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 2),
            ["fallback_keys"] = OneTimeKeys(alice, ed, "F", 1, fallback: true),
        });
        var claim = new JsonObject
        {
            [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519", ["NOSUCHDEVICE"] = "signed_curve25519" },
            ["@nobody:localhost"] = new JsonObject { ["DEV"] = "signed_curve25519" },
            ["@someone:remote.example"] = new JsonObject { ["DEV"] = "signed_curve25519" },
        };

        var claimedIds = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var claimed = await ClaimAsync(bob, (JsonObject)claim.DeepClone());
            var byUser = claimed.GetProperty("one_time_keys");
            Assert.Equal([alice.UserId], byUser.EnumerateObject().Select(p => p.Name));
            Assert.Equal([alice.DeviceId], byUser.GetProperty(alice.UserId).EnumerateObject().Select(p => p.Name));
            var key = byUser.GetProperty(alice.UserId).GetProperty(alice.DeviceId).EnumerateObject().Single();
            claimedIds.Add(key.Name);
            Assert.True(key.Value.GetProperty("signatures").GetProperty(alice.UserId).TryGetProperty("ed25519:" + alice.DeviceId, out _));
            Assert.Equal(["remote.example"], claimed.GetProperty("failures").EnumerateObject().Select(p => p.Name));
        }
        Assert.Equal(["signed_curve25519:A0", "signed_curve25519:A1"], claimedIds);
        Assert.Equal(0, Count(await CountsAsync(alice)));

        // None left: the fallback key, again and again, flagged as such.
        for (var i = 0; i < 2; i++)
        {
            var fallback = (await ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519" } }))
                .GetProperty("one_time_keys").GetProperty(alice.UserId).GetProperty(alice.DeviceId).EnumerateObject().Single();
            Assert.Equal("signed_curve25519:F0", fallback.Name);
            Assert.True(fallback.Value.GetProperty("fallback").GetBoolean());
        }
        // An algorithm the device has no key of: simply absent.
        Assert.Empty((await ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "curve25519" } }))
            .GetProperty("one_time_keys").EnumerateObject());
    }

    [Fact]
    public async Task Concurrent_claims_never_hand_out_a_key_twice()
    {
        var alice = await RegisterAsync("alice");
        var bob = await RegisterAsync("bob");
        using var ed = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["one_time_keys"] = OneTimeKeys(alice, ed, "K", 20) });

        var claims = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ =>
            ClaimAsync(bob, new JsonObject { [alice.UserId] = new JsonObject { [alice.DeviceId] = "signed_curve25519" } })));
        var handedOut = claims.SelectMany(c => c.GetProperty("one_time_keys").EnumerateObject())
            .SelectMany(u => u.Value.EnumerateObject()).SelectMany(d => d.Value.EnumerateObject()).Select(k => k.Name).ToList();
        Assert.Equal(20, handedOut.Count);
        Assert.Equal(20, handedOut.Distinct().Count());
    }

    [Fact]
    public async Task Query_lists_unknown_local_users_empty_remote_servers_as_failures_and_filters_devices()
    {
        var alice = await RegisterAsync("alice");
        var phone = await LogInAgainAsync(alice, "PHONE");
        using var ed = new SigningKey();
        using var phoneEd = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed) });
        await UploadAsync(phone, new JsonObject { ["device_keys"] = DeviceKeys(phone, phoneEd) });

        var all = await QueryAsync(alice, alice.UserId, "@nobody:localhost", "@someone:remote.example");
        Assert.Equal(new[] { alice.DeviceId, "PHONE" }.Order(StringComparer.Ordinal), all.GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("PHONE display name", all.GetProperty("device_keys").GetProperty(alice.UserId).GetProperty("PHONE")
            .GetProperty("unsigned").GetProperty("device_display_name").GetString());
        Assert.Empty(all.GetProperty("device_keys").GetProperty("@nobody:localhost").EnumerateObject());
        Assert.False(all.GetProperty("device_keys").TryGetProperty("@someone:remote.example", out _));
        Assert.Equal(["remote.example"], all.GetProperty("failures").EnumerateObject().Select(p => p.Name));

        var one = await OkAsync(alice, HttpMethod.Post, "/keys/query",
            new JsonObject { ["device_keys"] = new JsonObject { [alice.UserId] = new JsonArray("PHONE", "UNKNOWN") } });
        Assert.Equal(["PHONE"], one.GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("/keys/query", """{}""", "M_BAD_JSON")]
    [InlineData("/keys/query", """{"device_keys":{"@alice:localhost":"DEV"}}""", "M_BAD_JSON")]
    [InlineData("/keys/query", """{"device_keys":{"@alice:localhost":[1]}}""", "M_BAD_JSON")]
    [InlineData("/keys/query", """{"device_keys":{"not a user":[]}}""", "M_INVALID_PARAM")]
    [InlineData("/keys/claim", """{}""", "M_BAD_JSON")]
    [InlineData("/keys/claim", """{"one_time_keys":{"@alice:localhost":["DEV"]}}""", "M_BAD_JSON")]
    [InlineData("/keys/claim", """{"one_time_keys":{"@alice:localhost":{"DEV":5}}}""", "M_BAD_JSON")]
    [InlineData("/keys/claim", """{"one_time_keys":{"alice":{"DEV":"signed_curve25519"}}}""", "M_INVALID_PARAM")]
    [InlineData("/keys/claim", """[]""", "M_BAD_JSON")]
    public async Task Malformed_queries_and_claims_are_refused(string path, string json, string errcode)
    {
        var alice = await RegisterAsync("alice");
        using var ed = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 1) });
        await FailsAsync(alice, HttpMethod.Post, path, json.Replace("@alice:localhost", alice.UserId), HttpStatusCode.BadRequest, errcode);
        Assert.Equal(1, Count(await CountsAsync(alice)));
    }

    [Fact]
    public async Task The_endpoints_need_an_access_token()
    {
        foreach (var path in new[] { "/keys/upload", "/keys/query", "/keys/claim" })
        {
            var response = await Server.Client.PostAsync("/_matrix/client/v3" + path, new StringContent("{}"));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task Keys_survive_a_restart()
    {
        var alice = await RegisterAsync("alice");
        using var ed = new SigningKey();
        await UploadAsync(alice, new JsonObject { ["device_keys"] = DeviceKeys(alice, ed), ["one_time_keys"] = OneTimeKeys(alice, ed, "A", 2) });

        await RestartAsync();
        alice = alice.On(Server);

        Assert.Equal(2, Count(await CountsAsync(alice)));
        Assert.Single((await QueryAsync(alice, alice.UserId)).GetProperty("device_keys").GetProperty(alice.UserId).EnumerateObject());
        using var other = new SigningKey();
        await FailsAsync(alice, HttpMethod.Post, "/keys/upload",
            new JsonObject { ["device_keys"] = DeviceKeys(alice, other) }.ToJsonString(), HttpStatusCode.BadRequest, "M_INVALID_PARAM");
    }
}

public sealed class SqliteKeyUploadQueryClaimTests : KeyUploadQueryClaimTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresKeyUploadQueryClaimTests : KeyUploadQueryClaimTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
