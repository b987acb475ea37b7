using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Keys;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Federation;

public sealed class RemoteServerKeysTests
{
    private const long Now = 1_800_000_000_000;
    private static readonly long Day = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    private static byte[] Published(string server, long validUntilTs, params ServerSigningKeyRecord[] old)
    {
        var key = TestSigningKeys.For(server);
        return ServerKeysResponse.Build(key, [.. old, new ServerSigningKeyRecord(key.KeyId, key.PublicKey, new byte[32], 1, null)], validUntilTs);
    }

    [Fact]
    public void A_published_answer_is_accepted_and_its_key_is_valid_until_valid_until_ts()
    {
        var key = TestSigningKeys.For("remote.example");

        Assert.True(RemoteServerKeys.TryParse(Published("remote.example", Now + Day), "remote.example", Now, out var keys, out var error), error);

        Assert.Equal(key.PublicKey, keys.KeyValidAt(key.KeyId, Now));
        Assert.Equal(key.PublicKey, keys.KeyValidAt(key.KeyId, Now + Day));
        Assert.Null(keys.KeyValidAt(key.KeyId, Now + Day + 1));
        Assert.Null(keys.KeyValidAt("ed25519:other", Now));
    }

    [Fact]
    public void Valid_until_ts_is_used_for_at_most_7_days()
    {
        var key = TestSigningKeys.For("remote.example");

        Assert.True(RemoteServerKeys.TryParse(Published("remote.example", Now + 30 * Day), "remote.example", Now, out var keys, out _));

        Assert.Equal(Now + 7 * Day, keys.ValidUntilTs);
        Assert.Equal(Now + 30 * Day, keys.PublishedValidUntilTs);
        Assert.Null(keys.KeyValidAt(key.KeyId, Now + 7 * Day + 1));
    }

    [Fact]
    public void Old_keys_verify_only_what_was_signed_before_they_expired()
    {
        byte[] oldKey = [.. Enumerable.Repeat((byte)7, 32)];
        var body = Published("remote.example", Now + Day, new ServerSigningKeyRecord("ed25519:old", oldKey, null, 0, Now - 10));

        Assert.True(RemoteServerKeys.TryParse(body, "remote.example", Now, out var keys, out _));

        Assert.Equal(oldKey, keys.KeyValidAt("ed25519:old", Now - 11));
        Assert.Null(keys.KeyValidAt("ed25519:old", Now - 10));
    }

    [Fact]
    public void An_answer_for_another_server_is_refused()
    {
        Assert.False(RemoteServerKeys.TryParse(Published("remote.example", Now + Day), "impostor.example", Now, out _, out var error));
        Assert.Contains("server_name", error);
    }

    [Fact]
    public void An_answer_changed_after_signing_is_refused()
    {
        var json = JsonNode.Parse(Published("remote.example", Now + Day))!.AsObject();
        json["valid_until_ts"] = Now + 5 * Day;

        Assert.False(RemoteServerKeys.TryParse(Encoding.UTF8.GetBytes(json.ToJsonString()), "remote.example", Now, out _, out var error));
        Assert.Contains("not signed", error);
    }

    [Fact]
    public void An_answer_whose_verify_key_did_not_sign_it_is_refused()
    {
        // Signed by one key, publishing another.
        var signer = TestSigningKeys.For("remote.example");
        var json = new JsonObject
        {
            ["server_name"] = "remote.example",
            ["verify_keys"] = new JsonObject { ["ed25519:other"] = new JsonObject { ["key"] = TestSigningKeys.For("x.example").PublicKeyBase64 } },
            ["old_verify_keys"] = new JsonObject(),
            ["valid_until_ts"] = Now + Day,
        };
        var body = CanonicalJson.Encode(JsonSigning.Sign(json, signer));

        Assert.False(RemoteServerKeys.TryParse(body, "remote.example", Now, out _, out _));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"server_name":"remote.example","valid_until_ts":1,"verify_keys":{}}""")]
    [InlineData("""{"server_name":"remote.example","verify_keys":{"ed25519:a":{"key":"AAAA"}}}""")]
    public void Malformed_answers_are_refused(string body)
    {
        Assert.False(RemoteServerKeys.TryParse(Encoding.UTF8.GetBytes(body), "remote.example", Now, out _, out _));
    }
}
