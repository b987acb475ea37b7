using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events;

public class EventHashingTests
{
    // Published content-hash vectors that other Matrix implementations test against.
    [Fact]
    public void Content_hash_of_a_minimal_event_matches_the_known_vector()
    {
        var pdu = JsonNode.Parse("""
            { "event_id": "$0:domain", "origin": "domain", "origin_server_ts": 1000000, "signatures": {},
              "type": "X", "unsigned": { "age_ts": 1000000 } }
            """)!.AsObject();
        Assert.Equal("6tJjLpXtggfke8UxFhAKg82QVkJzvKOVOOSjUDK4ZSI",
            EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu)));
    }

    [Fact]
    public void Content_hash_of_a_message_event_matches_the_known_vector_and_ignores_existing_hashes()
    {
        var pdu = JsonNode.Parse("""
            { "content": { "body": "Here is the message content" }, "event_id": "$0:domain", "origin": "domain",
              "origin_server_ts": 1000000, "type": "m.room.message", "room_id": "!r:domain", "sender": "@u:domain",
              "signatures": {}, "hashes": { "sha256": "stale" }, "unsigned": { "age_ts": 1000000 } }
            """)!.AsObject();
        Assert.Equal("onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g",
            EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu)));
    }

    [Fact]
    public void Reference_hash_is_sha256_of_the_redacted_event_without_signatures_or_unsigned()
    {
        var pdu = JsonNode.Parse("""
            { "type": "m.room.message", "content": { "body": "secret" }, "room_id": "!r:x", "sender": "@u:x",
              "depth": 2, "origin_server_ts": 7, "prev_events": [], "auth_events": [], "hashes": { "sha256": "h" },
              "signatures": { "x": { "ed25519:a": "s" } }, "unsigned": { "age": 1 } }
            """)!.AsObject();
        const string redacted =
            """{"auth_events":[],"content":{},"depth":2,"hashes":{"sha256":"h"},"origin_server_ts":7,"prev_events":[],"room_id":"!r:x","sender":"@u:x","type":"m.room.message"}""";
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(redacted));

        Assert.Equal(expected, EventHashing.ComputeReferenceHash(RoomVersion.V10, pdu));
        Assert.Equal(expected, EventHashing.ComputeReferenceHash(RoomVersion.V11, pdu));
        Assert.Equal(EventId.FromReferenceHash(expected), EventHashing.ComputeEventId(RoomVersion.V10, pdu));
    }

    [Fact]
    public void Redactable_changes_keep_the_event_id_but_break_the_content_hash()
    {
        var original = JsonNode.Parse("""
            { "type": "m.room.message", "content": { "body": "a" }, "room_id": "!r:x", "sender": "@u:x",
              "depth": 2, "origin_server_ts": 7, "prev_events": [], "auth_events": [] }
            """)!.AsObject();
        original["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(original)) };
        var tampered = (JsonObject)original.DeepClone();
        tampered["content"]!["body"] = "b";

        Assert.True(EventHashing.HasValidContentHash(original));
        Assert.False(EventHashing.HasValidContentHash(tampered));
        Assert.Equal(EventHashing.ComputeEventId(RoomVersion.V11, original), EventHashing.ComputeEventId(RoomVersion.V11, tampered));
    }

    [Fact]
    public void Missing_hashes_are_not_valid()
    {
        Assert.False(EventHashing.HasValidContentHash(new JsonObject { ["type"] = "x" }));
        Assert.False(EventHashing.HasValidContentHash(new JsonObject { ["hashes"] = new JsonObject { ["sha256"] = 1 } }));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("f", "Zg")]
    [InlineData("fo", "Zm8")]
    [InlineData("foo", "Zm9v")]
    [InlineData("foob", "Zm9vYg")]
    [InlineData("fooba", "Zm9vYmE")]
    [InlineData("foobar", "Zm9vYmFy")]
    public void Unpadded_base64_matches_the_spec_examples(string input, string expected) =>
        Assert.Equal(expected, EventHashing.EncodeUnpaddedBase64(Encoding.ASCII.GetBytes(input)));
}
