using System.Security.Cryptography;
using HomeServer.Grains.Tests.Federation;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events;

public class EventBuilderTests
{
    private static readonly RoomId Room = RoomId.Parse("!room:example.org");
    private static readonly UserId Alice = UserId.Parse("@alice:example.org");
    private static readonly EventId Prev = EventId.FromReferenceHash(SHA256.HashData("prev"u8));
    private static readonly EventId Auth = EventId.FromReferenceHash(SHA256.HashData("auth"u8));

    private static EventDraft Message(RoomVersion version, JsonObject? content = null) => new()
    {
        RoomVersion = version,
        RoomId = Room,
        Sender = Alice,
        Type = "m.room.message",
        Content = content ?? new JsonObject { ["msgtype"] = "m.text", ["body"] = "hi" },
        PrevEvents = [Prev],
        AuthEvents = [Auth],
        Depth = 3,
        OriginServerTs = 1_700_000_000_000,
    };

    // Independent of the encoder under test: hand-written canonical JSON, SHA-256, Convert base64.
    private static string Sha256Base64(string canonical) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))).TrimEnd('=');

    private static string EventIdOf(string canonicalRedacted) =>
        "$" + Sha256Base64(canonicalRedacted).Replace('+', '-').Replace('/', '_');

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void Builds_a_message_event_with_content_hash_and_reference_hash_id(string versionId)
    {
        RoomVersion.TryGet(versionId, out var version);
        var built = TestSigningKeys.Build(Message(version!));

        var unhashed =
            $$"""{"auth_events":["{{Auth}}"],"content":{"body":"hi","msgtype":"m.text"},"depth":3,"origin_server_ts":1700000000000,"prev_events":["{{Prev}}"],"room_id":"!room:example.org","sender":"@alice:example.org","type":"m.room.message"}""";
        var contentHash = Sha256Base64(unhashed);
        var redacted =
            $$"""{"auth_events":["{{Auth}}"],"content":{},"depth":3,"hashes":{"sha256":"{{contentHash}}"},"origin_server_ts":1700000000000,"prev_events":["{{Prev}}"],"room_id":"!room:example.org","sender":"@alice:example.org","type":"m.room.message"}""";
        // The server signs the redacted event (Ed25519 is deterministic, so the signature is known in advance).
        var key = TestSigningKeys.For("example.org");
        var signature = Convert.ToBase64String(key.Sign(Encoding.UTF8.GetBytes(redacted))).TrimEnd('=');
        var signatures = "{\"example.org\":{\"" + key.KeyId + "\":\"" + signature + "\"}}";
        var expectedJson =
            $$"""{"auth_events":["{{Auth}}"],"content":{"body":"hi","msgtype":"m.text"},"depth":3,"hashes":{"sha256":"{{contentHash}}"},"origin_server_ts":1700000000000,"prev_events":["{{Prev}}"],"room_id":"!room:example.org","sender":"@alice:example.org","signatures":{{signatures}},"type":"m.room.message"}""";

        Assert.Equal(expectedJson, Encoding.UTF8.GetString(built.Json));
        Assert.Equal(EventIdOf(redacted), built.EventId.Value);
    }

    [Fact]
    public void The_signature_verifies_and_changes_neither_hash_nor_event_id()
    {
        var draft = Message(RoomVersion.V11);
        var first = EventBuilder.Build(draft, TestSigningKeys.For("example.org"));
        using var otherKey = HomeServer.Grains.Federation.Signing.ServerSigningKey.FromSeed("example.org", "ed25519:other", new byte[32]);
        var second = EventBuilder.Build(draft, otherKey);

        var pdu = JsonNode.Parse(first.Json)!.AsObject();
        Assert.True(HomeServer.Grains.Federation.Signing.EventSigning.Verify(
            RoomVersion.V11, pdu, "example.org", "ed25519:test", TestSigningKeys.For("example.org").PublicKey));
        Assert.Equal(first.EventId, second.EventId);
        Assert.Equal(first.Pdu.ContentHash, second.Pdu.ContentHash);
        Assert.NotEqual(first.Json, second.Json);
    }

    [Fact]
    public void A_key_of_another_server_cannot_sign_the_event() =>
        Assert.Throws<ArgumentException>(() => EventBuilder.Build(Message(RoomVersion.V11), TestSigningKeys.For("elsewhere.example")));

    [Theory]
    [InlineData("1")]
    [InlineData("11")]
    public void Any_server_in_the_room_may_sign_an_invite_made_from_a_third_party_invite(string versionId)
    {
        Assert.True(RoomVersion.TryGet(versionId, out var version));
        var draft = Message(version!) with
        {
            // Room versions 1 and 2 reference events with their content hashes, which this test has none of.
            PrevEvents = version!.EventIdInEvent ? [] : Message(version).PrevEvents,
            AuthEvents = version.EventIdInEvent ? [] : Message(version).AuthEvents,
            Type = EventTypes.Member,
            StateKey = "@bob:elsewhere.example",
            Content = new JsonObject
            {
                ["membership"] = "invite",
                ["third_party_invite"] = new JsonObject { ["display_name"] = "b", ["signed"] = new JsonObject { ["mxid"] = "@bob:elsewhere.example", ["token"] = "t" } },
            },
        };
        var built = EventBuilder.Build(draft, TestSigningKeys.For("elsewhere.example"));
        var json = JsonNode.Parse(built.Json)!.AsObject();
        Assert.NotNull(json["signatures"]!["elsewhere.example"]);
        Assert.Null(json["signatures"]!["example.org"]);
        Assert.True(HomeServer.Grains.ThirdPartyInvites.ThirdPartyInviteOrigin.IsBuiltBy(built.Json, "elsewhere.example"));
        Assert.False(HomeServer.Grains.ThirdPartyInvites.ThirdPartyInviteOrigin.IsBuiltBy(built.Json, "example.org"));
        if (version!.EventIdInEvent) Assert.EndsWith(":elsewhere.example", built.EventId.Value);

        var plainInvite = draft with { Content = new JsonObject { ["membership"] = "invite" } };
        Assert.Throws<ArgumentException>(() => EventBuilder.Build(plainInvite, TestSigningKeys.For("elsewhere.example")));
    }

    [Fact]
    public void V11_create_event_id_covers_the_whole_create_content()
    {
        var draft = new EventDraft
        {
            RoomVersion = RoomVersion.V11,
            RoomId = Room,
            Sender = Alice,
            Type = EventTypes.Create,
            StateKey = "",
            Content = new JsonObject { ["room_version"] = "11" },
            Depth = 1,
            OriginServerTs = 5,
        };
        var built = TestSigningKeys.Build(draft);

        var contentHash = Sha256Base64(
            """{"auth_events":[],"content":{"room_version":"11"},"depth":1,"origin_server_ts":5,"prev_events":[],"room_id":"!room:example.org","sender":"@alice:example.org","state_key":"","type":"m.room.create"}""");
        var redacted =
            $$"""{"auth_events":[],"content":{"room_version":"11"},"depth":1,"hashes":{"sha256":"{{contentHash}}"},"origin_server_ts":5,"prev_events":[],"room_id":"!room:example.org","sender":"@alice:example.org","state_key":"","type":"m.room.create"}""";
        Assert.Equal(EventIdOf(redacted), built.EventId.Value);

        // Under v10 rules the same event redacts to `{}` content, so the ID differs.
        Assert.NotEqual(built.EventId, TestSigningKeys.Build(draft with { RoomVersion = RoomVersion.V10 }).EventId);
    }

    [Fact]
    public void V10_redaction_puts_redacts_at_top_level()
    {
        var target = Prev;
        var built = TestSigningKeys.Build(Message(RoomVersion.V10, new JsonObject { ["reason"] = "spam" }) with
        {
            Type = EventTypes.Redaction,
            Redacts = target,
        });
        Assert.Equal(target.Value, built.Pdu.Json.GetProperty("redacts").GetString());
        Assert.False(built.Pdu.Content.TryGetProperty("redacts", out _));
    }

    [Fact]
    public void V11_redaction_puts_redacts_in_content_and_keeps_it_through_redaction()
    {
        var built = TestSigningKeys.Build(Message(RoomVersion.V11, new JsonObject { ["reason"] = "spam" }) with
        {
            Type = EventTypes.Redaction,
            Redacts = Prev,
        });
        Assert.False(built.Pdu.Json.TryGetProperty("redacts", out _));
        Assert.Equal(Prev.Value, built.Pdu.GetContentString("redacts"));

        var redacted = EventRedactor.Redact(RoomVersion.V11, built.Pdu.Json);
        Assert.Equal(Prev.Value, (string?)redacted["content"]!["redacts"]);
    }

    [Fact]
    public void V11_redaction_accepts_the_target_already_in_content()
    {
        var built = TestSigningKeys.Build(Message(RoomVersion.V11, new JsonObject { ["redacts"] = Prev.Value }) with
        {
            Type = EventTypes.Redaction,
        });
        Assert.Equal(Prev.Value, built.Pdu.GetContentString("redacts"));
    }

    [Fact]
    public void Id_and_bytes_do_not_depend_on_the_key_order_of_the_content()
    {
        var a = JsonNode.Parse("""{ "b": { "y": 1, "x": [1, 2] }, "a": "é", "c": null }""")!.AsObject();
        var b = JsonNode.Parse("""{ "c": null, "a": "\u00e9", "b": { "x": [1, 2], "y": 1 } }""")!.AsObject();
        var first = TestSigningKeys.Build(Message(RoomVersion.V10, a));
        var second = TestSigningKeys.Build(Message(RoomVersion.V10, b));
        Assert.Equal(first.EventId, second.EventId);
        Assert.Equal(first.Json, second.Json);
    }

    [Fact]
    public void Different_content_gives_different_ids_because_the_content_hash_is_covered()
    {
        var first = TestSigningKeys.Build(Message(RoomVersion.V11, new JsonObject { ["body"] = "a" }));
        var second = TestSigningKeys.Build(Message(RoomVersion.V11, new JsonObject { ["body"] = "b" }));
        Assert.NotEqual(first.EventId, second.EventId);
    }

    [Fact]
    public void Output_is_consistent_with_itself()
    {
        var built = TestSigningKeys.Build(Message(RoomVersion.V11) with { Type = "m.room.topic", StateKey = "" });
        Assert.True(EventId.IsValid(built.EventId.Value));
        Assert.Equal(built.Json, CanonicalJson.Encode(built.Json));
        Assert.True(EventHashing.HasValidContentHash(JsonElement.Parse(built.Json)));
        Assert.Equal(built.EventId, EventHashing.ComputeEventId(RoomVersion.V11, JsonElement.Parse(built.Json)));
        Assert.False(built.Pdu.Json.TryGetProperty("event_id", out _));

        Assert.Equal(built.EventId, built.Pdu.EventId);
        Assert.Equal("m.room.topic", built.Pdu.Type);
        Assert.Equal("", built.Pdu.StateKey);
        Assert.True(built.Pdu.IsState);
        Assert.Equal(Alice, built.Pdu.Sender);
        Assert.Equal(Room, built.Pdu.RoomId);
        Assert.Equal([Prev.Value], built.Pdu.PrevEvents);
        Assert.Equal([Auth.Value], built.Pdu.AuthEvents);
    }

    [Fact]
    public void Does_not_modify_the_callers_content()
    {
        var content = new JsonObject { ["body"] = "hi" };
        TestSigningKeys.Build(Message(RoomVersion.V11, content) with { Type = EventTypes.Redaction, Redacts = Prev });
        Assert.Equal("""{"body":"hi"}""", content.ToJsonString());
    }

    [Fact]
    public void Refuses_floats_in_content_as_bad_json()
    {
        var error = Assert.Throws<EventBuildException>(() =>
            TestSigningKeys.Build(Message(RoomVersion.V10, JsonNode.Parse("""{ "n": 1.5 }""")!.AsObject())));
        Assert.Equal(EventBuildError.BadJson, error.Error);
    }

    [Fact]
    public void Refuses_events_over_65536_bytes()
    {
        var fits = TestSigningKeys.Build(Message(RoomVersion.V10, new JsonObject { ["body"] = new string('a', 60_000) }));
        Assert.True(fits.Json.Length <= EventBuilder.MaxEventBytes);
        var error = Assert.Throws<EventBuildException>(() =>
            TestSigningKeys.Build(Message(RoomVersion.V10, new JsonObject { ["body"] = new string('a', 65_536) })));
        Assert.Equal(EventBuildError.TooLarge, error.Error);
    }

    public static TheoryData<string, EventDraft> InvalidDrafts()
    {
        var message = Message(RoomVersion.V11);
        var redaction = message with { Type = EventTypes.Redaction };
        return new()
        {
            { "empty type", message with { Type = "" } },
            { "type over 255 bytes", message with { Type = new string('t', 256) } },
            { "state key over 255 bytes", message with { StateKey = new string('é', 128) } },
            { "21 prev events", message with { PrevEvents = Enumerable.Repeat(Prev, 21).ToList() } },
            { "11 auth events", message with { AuthEvents = Enumerable.Repeat(Auth, 11).ToList() } },
            { "negative depth", message with { Depth = -1 } },
            { "depth beyond 2^53-1", message with { Depth = CanonicalJson.MaxSafeInteger + 1 } },
            { "negative timestamp", message with { OriginServerTs = -1 } },
            { "redacts on a message", message with { Redacts = Prev } },
            { "v11 redaction without target", redaction },
            { "v10 redaction without target", redaction with { RoomVersion = RoomVersion.V10 } },
            { "v11 content.redacts not an event ID", redaction with { Content = new JsonObject { ["redacts"] = "nope" } } },
            { "v11 conflicting targets", redaction with { Content = new JsonObject { ["redacts"] = Auth.Value }, Redacts = Prev } },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidDrafts))]
    public void Refuses_invalid_drafts(string reason, EventDraft draft)
    {
        var error = Assert.Throws<EventBuildException>(() => TestSigningKeys.Build(draft));
        Assert.True(error.Error == EventBuildError.InvalidField, reason);
    }

    [Fact]
    public void Accepts_limits_exactly()
    {
        var built = TestSigningKeys.Build(Message(RoomVersion.V10) with
        {
            Type = new string('t', 255),
            StateKey = new string('s', 255),
            PrevEvents = Enumerable.Repeat(Prev, 20).ToList(),
            AuthEvents = Enumerable.Repeat(Auth, 10).ToList(),
            Depth = CanonicalJson.MaxSafeInteger,
        });
        Assert.Equal(CanonicalJson.MaxSafeInteger, built.Pdu.Json.GetProperty("depth").GetInt64());
    }
}
