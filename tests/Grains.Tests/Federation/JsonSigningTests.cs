using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using NSec.Cryptography;

namespace HomeServer.Grains.Tests.Federation;

/// <summary>Signing and verifying JSON and events against the spec appendix's test vectors ("Cryptographic test vectors").</summary>
public sealed class JsonSigningTests : IDisposable
{
    private const string SpecSeed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
    private readonly ServerSigningKey _key = ServerSigningKey.FromSeed("domain", "ed25519:1", Decode(SpecSeed));

    public void Dispose() => _key.Dispose();

    [Fact]
    public void The_empty_object_is_signed_as_in_the_spec()
    {
        var signed = JsonSigning.Sign(new JsonObject(), _key);

        Assert.Equal(
            """{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}""",
            Encoding.UTF8.GetString(CanonicalJson.Encode(signed)));
    }

    [Fact]
    public void An_object_with_data_is_signed_as_in_the_spec()
    {
        var signed = JsonSigning.Sign(Parse("""{ "one": 1, "two": "Two" }"""), _key);

        Assert.Equal(
            """{"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}""",
            Encoding.UTF8.GetString(CanonicalJson.Encode(signed)));
    }

    [Fact]
    public void Unsigned_and_existing_signatures_are_kept_and_do_not_change_the_signature()
    {
        var json = Parse("""{ "one": 1, "two": "Two", "unsigned": { "age": 5 }, "signatures": { "other": { "ed25519:x": "abc" } } }""");

        JsonSigning.Sign(json, _key);

        Assert.Equal("KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw", JsonSigning.SignatureOf(json, "domain", "ed25519:1"));
        Assert.Equal("abc", JsonSigning.SignatureOf(json, "other", "ed25519:x"));
        Assert.Equal(5, json["unsigned"]!["age"]!.GetValue<int>());
    }

    [Fact]
    public void A_signature_verifies_under_its_public_key_and_fails_when_anything_differs()
    {
        var json = JsonSigning.Sign(Parse("""{ "one": 1, "two": "Two" }"""), _key);
        using var other = ServerSigningKey.FromSeed("domain", "ed25519:1", new byte[32]);

        Assert.True(JsonSigning.Verify(json, "domain", "ed25519:1", _key.PublicKey));
        Assert.False(JsonSigning.Verify(json, "domain", "ed25519:1", other.PublicKey));
        Assert.False(JsonSigning.Verify(json, "domain", "ed25519:2", _key.PublicKey));
        Assert.False(JsonSigning.Verify(json, "elsewhere", "ed25519:1", _key.PublicKey));
        Assert.False(JsonSigning.Verify(json, "domain", "ed25519:1", _key.PublicKey[..31]));

        var tampered = (JsonObject)json.DeepClone();
        tampered["two"] = "Three";
        Assert.False(JsonSigning.Verify(tampered, "domain", "ed25519:1", _key.PublicKey));

        var withUnsigned = (JsonObject)json.DeepClone();
        withUnsigned["unsigned"] = new JsonObject { ["added"] = "later" };
        Assert.True(JsonSigning.Verify(withUnsigned, "domain", "ed25519:1", _key.PublicKey));

        var garbled = (JsonObject)json.DeepClone();
        garbled["signatures"]!["domain"]!["ed25519:1"] = "not base64!";
        Assert.False(JsonSigning.Verify(garbled, "domain", "ed25519:1", _key.PublicKey));
    }

    [Fact]
    public void The_spec_signature_verifies_with_the_public_key_derived_by_nsec()
    {
        var publicKey = Key.Import(SignatureAlgorithm.Ed25519, Decode(SpecSeed), KeyBlobFormat.RawPrivateKey).PublicKey.Export(KeyBlobFormat.RawPublicKey);
        var json = Parse("""{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}""");

        Assert.Equal(publicKey, _key.PublicKey);
        Assert.True(JsonSigning.Verify(json, "domain", "ed25519:1", publicKey));
    }

    [Fact]
    public void The_minimal_event_is_hashed_and_signed_as_in_the_spec()
    {
        var pdu = Parse("""
            { "event_id": "$0:domain", "origin": "domain", "origin_server_ts": 1000000, "signatures": {}, "type": "X", "unsigned": { "age_ts": 1000000 } }
            """);

        SignAsSpec(pdu);

        Assert.Equal("6tJjLpXtggfke8UxFhAKg82QVkJzvKOVOOSjUDK4ZSI", pdu["hashes"]!["sha256"]!.GetValue<string>());
        Assert.Equal("2Wptgo4CwmLo/Y8B8qinxApKaCkBG2fjTWB7AbP5Uy+aIbygsSdLOFzvdDjww8zUVKCmI02eP9xtyJxc/cLiBA",
            JsonSigning.SignatureOf(pdu, "domain", "ed25519:1"));
        Assert.True(EventSigning.Verify(RoomVersion.V1, pdu, "domain", "ed25519:1", _key.PublicKey));
    }

    [Fact]
    public void The_event_with_redactable_content_is_hashed_and_signed_as_in_the_spec()
    {
        var pdu = Parse("""
            {
              "content": { "body": "Here is the message content" },
              "event_id": "$0:domain", "origin": "domain", "origin_server_ts": 1000000, "type": "m.room.message",
              "room_id": "!r:domain", "sender": "@u:domain", "signatures": {}, "unsigned": { "age_ts": 1000000 }
            }
            """);

        SignAsSpec(pdu);

        Assert.Equal("onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g", pdu["hashes"]!["sha256"]!.GetValue<string>());
        Assert.Equal("Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA",
            JsonSigning.SignatureOf(pdu, "domain", "ed25519:1"));
        Assert.Equal("Here is the message content", pdu["content"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public void An_event_signature_covers_the_redacted_event_so_a_redacted_copy_still_verifies_and_a_changed_one_does_not()
    {
        var pdu = Parse("""
            { "content": { "body": "hello" }, "origin_server_ts": 1, "type": "m.room.message", "room_id": "!r:domain",
              "sender": "@u:domain", "depth": 3, "auth_events": [], "prev_events": [] }
            """);
        SignAsSpec(pdu, RoomVersion.V11);

        Assert.True(EventSigning.Verify(RoomVersion.V11, pdu, "domain", "ed25519:1", _key.PublicKey));

        var redacted = EventRedactor.Redact(RoomVersion.V11, pdu);
        Assert.True(EventSigning.Verify(RoomVersion.V11, redacted, "domain", "ed25519:1", _key.PublicKey));

        var moved = (JsonObject)pdu.DeepClone();
        moved["depth"] = 4;
        Assert.False(EventSigning.Verify(RoomVersion.V11, moved, "domain", "ed25519:1", _key.PublicKey));
    }

    [Theory]
    [InlineData("""{ "type": "m.room.message", "sender": "@u:a.example", "content": {} }""", "11", "a.example")]
    [InlineData("""{ "type": "m.room.message", "sender": "@u:a.example", "event_id": "$x:b.example", "content": {} }""", "1", "a.example,b.example")]
    [InlineData("""{ "type": "m.room.member", "state_key": "@u:a.example", "sender": "@u:a.example", "content": { "membership": "join", "join_authorised_via_users_server": "@r:c.example" } }""", "8", "a.example,c.example")]
    [InlineData("""{ "type": "m.room.member", "state_key": "@u:a.example", "sender": "@u:a.example", "content": { "membership": "join", "join_authorised_via_users_server": "@r:c.example" } }""", "7", "a.example")]
    [InlineData("""{ "type": "m.room.member", "state_key": "@v:d.example", "sender": "@u:a.example", "content": { "membership": "invite", "third_party_invite": { "signed": {} } } }""", "11", "")]
    public void Required_signers_follow_the_spec(string json, string version, string expected)
    {
        RoomVersion.TryGet(version, out var roomVersion);

        var signers = EventSigning.RequiredSigners(roomVersion!, Parse(json));

        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(), signers!.Order());
    }

    [Fact]
    public void Required_signers_are_unknown_for_a_malformed_event()
    {
        Assert.Null(EventSigning.RequiredSigners(RoomVersion.V11, Parse("""{ "type": "m.room.message", "sender": "nobody" }""")));
        Assert.Null(EventSigning.RequiredSigners(RoomVersion.V1, Parse("""{ "type": "m.room.message", "sender": "@u:a.example", "event_id": "$nodomain" }""")));
        Assert.Null(EventSigning.RequiredSigners(RoomVersion.V9, Parse(
            """{ "type": "m.room.member", "sender": "@u:a.example", "content": { "membership": "join", "join_authorised_via_users_server": 5 } }""")));
    }

    [Theory]
    [InlineData("ed25519:1", true)]
    [InlineData("ed25519:a_B9", true)]
    [InlineData("ed25519:", false)]
    [InlineData("ed25519:a-b", false)]
    [InlineData("curve25519:a", false)]
    public void Key_ids_are_ed25519_and_a_version_of_word_characters(string keyId, bool valid) =>
        Assert.Equal(valid, ServerSigningKey.IsValidKeyId(keyId));

    [Fact]
    public void New_seeds_give_distinct_valid_key_ids_and_keys()
    {
        var (firstId, firstSeed) = ServerSigningKey.NewSeed();
        var (secondId, secondSeed) = ServerSigningKey.NewSeed();

        Assert.True(ServerSigningKey.IsValidKeyId(firstId));
        Assert.NotEqual(firstId, secondId);
        Assert.NotEqual(firstSeed, secondSeed);
        Assert.Equal(32, firstSeed.Length);
        Assert.NotEqual(ServerSigningKey.PublicKeyOf(firstSeed), ServerSigningKey.PublicKeyOf(secondSeed));
    }

    /// <summary>The spec's event signing: content hash first, then the signature over the redacted event.</summary>
    private void SignAsSpec(JsonObject pdu, RoomVersion? version = null)
    {
        pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu)) };
        EventSigning.Sign(version ?? RoomVersion.V1, pdu, _key);
    }

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static byte[] Decode(string unpadded) => UnpaddedBase64.TryDecode(unpadded, out var bytes) ? bytes : throw new FormatException(unpadded);
}
