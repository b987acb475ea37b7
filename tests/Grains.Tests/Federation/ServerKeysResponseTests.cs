using System.Text.Json.Nodes;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Storage;

namespace HomeServer.Grains.Tests.Federation;

public sealed class ServerKeysResponseTests
{
    [Fact]
    public void The_current_key_is_published_with_the_expired_ones_and_signs_the_whole_answer()
    {
        var current = TestSigningKeys.For("example.org");
        byte[] oldPublic = [.. Enumerable.Repeat((byte)9, 32)];
        var stored = new[]
        {
            new ServerSigningKeyRecord("ed25519:old", oldPublic, null, 1, 500),
            new ServerSigningKeyRecord(current.KeyId, current.PublicKey, [.. new byte[32]], 2, null),
        };

        var json = JsonNode.Parse(ServerKeysResponse.Build(current, stored, validUntilTs: 86_400_000))!.AsObject();

        Assert.Equal("example.org", json["server_name"]!.GetValue<string>());
        Assert.Equal(86_400_000, json["valid_until_ts"]!.GetValue<long>());
        Assert.Equal(current.PublicKeyBase64, json["verify_keys"]![current.KeyId]!["key"]!.GetValue<string>());
        Assert.Single(json["verify_keys"]!.AsObject());
        var old = Assert.Single(json["old_verify_keys"]!.AsObject());
        Assert.Equal("ed25519:old", old.Key);
        Assert.Equal(500, old.Value!["expired_ts"]!.GetValue<long>());
        Assert.Equal(UnpaddedBase64.Encode(oldPublic), old.Value!["key"]!.GetValue<string>());
        Assert.True(JsonSigning.Verify(json, "example.org", current.KeyId, current.PublicKey));
    }

    [Fact]
    public void A_loaded_key_that_the_store_has_since_expired_is_published_only_as_current()
    {
        var current = TestSigningKeys.For("example.org");
        var stored = new[] { new ServerSigningKeyRecord(current.KeyId, current.PublicKey, null, 1, 700) };

        var json = JsonNode.Parse(ServerKeysResponse.Build(current, stored, 1))!.AsObject();

        Assert.Empty(json["old_verify_keys"]!.AsObject());
        Assert.NotNull(json["verify_keys"]![current.KeyId]);
    }
}
