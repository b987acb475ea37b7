using System.Security.Cryptography;
using HomeServer.Grains.Tests.Federation;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Events;

/// <summary>Event IDs, reference formats and number rules of the events built for each room version.</summary>
public class RoomVersionEventFormatTests
{
    private static readonly RoomId Room = RoomId.Parse("!room:example.org");
    private static readonly UserId Alice = UserId.Parse("@alice:example.org");
    private static readonly EventId Prev = EventId.Opaque("prev", "example.org");
    private static readonly EventId Auth = EventId.FromReferenceHash(SHA256.HashData("auth"u8));

    public static TheoryData<string> AllVersions => new(RoomVersion.Supported.Select(v => v.Id));

    private static RoomVersion Version(string id) => RoomVersion.TryGet(id, out var version) ? version : throw new ArgumentException(id);

    private static EventDraft Message(RoomVersion version, JsonObject? content = null) => new()
    {
        RoomVersion = version,
        RoomId = Room,
        Sender = Alice,
        Type = "m.room.message",
        Content = content ?? new JsonObject { ["msgtype"] = "m.text", ["body"] = "hi" },
        PrevEvents = [Prev],
        AuthEvents = [Auth],
        ReferencedContentHashes = new Dictionary<EventId, string> { [Prev] = "prevhash", [Auth] = "authhash" },
        Depth = 3,
        OriginServerTs = 1_700_000_000_000,
    };

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Event_ids_and_references_have_the_versions_format(string id)
    {
        var version = Version(id);
        var built = TestSigningKeys.Build(Message(version));
        var json = JsonNode.Parse(built.Json)!.AsObject();
        var referenceHash = EventHashing.ComputeReferenceHash(version, json);
        switch (id)
        {
            case "1" or "2":
                Assert.Matches("^\\$[A-Za-z]{18}:example\\.org$", built.EventId.Value);
                Assert.Equal(built.EventId.Value, json["event_id"]!.GetValue<string>());
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""[["{{Prev}}", { "sha256": "prevhash" }]]"""), json["prev_events"]));
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""[["{{Auth}}", { "sha256": "authhash" }]]"""), json["auth_events"]));
                break;
            case "3":
                Assert.Equal("$" + Convert.ToBase64String(referenceHash).TrimEnd('='), built.EventId.Value);
                Assert.False(json.ContainsKey("event_id"));
                break;
            default:
                Assert.Equal("$" + Convert.ToBase64String(referenceHash).TrimEnd('=').Replace('+', '-').Replace('/', '_'), built.EventId.Value);
                Assert.False(json.ContainsKey("event_id"));
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""["{{Prev}}"]"""), json["prev_events"]));
                break;
        }
        // Whatever the format, the parsed view reads the bare IDs, and the content hash covers the event.
        Assert.Equal([Prev.Value], built.Pdu.PrevEvents);
        Assert.Equal([Auth.Value], built.Pdu.AuthEvents);
        Assert.True(EventHashing.HasValidContentHash(json.DeepClone().AsObject()) || !version.StrictCanonicalJson);
        Assert.Equal(built.EventId, EventHashing.ComputeEventId(version, json));
    }

    [Fact]
    public void Opaque_ids_differ_for_identical_events()
    {
        var first = TestSigningKeys.Build(Message(RoomVersion.V1));
        var second = TestSigningKeys.Build(Message(RoomVersion.V1));
        Assert.NotEqual(first.EventId, second.EventId);
    }

    [Fact]
    public void V1_and_v2_need_the_content_hashes_of_referenced_events()
    {
        var draft = Message(RoomVersion.V2) with { ReferencedContentHashes = new Dictionary<EventId, string>() };
        var e = Assert.Throws<EventBuildException>(() => TestSigningKeys.Build(draft));
        Assert.Equal(EventBuildError.InvalidField, e.Error);
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Fractions_and_large_integers_are_refused_from_v6(string id)
    {
        var version = Version(id);
        foreach (var number in new[] { "1.5", "9007199254740992", "-9007199254740992" })
        {
            var content = JsonNode.Parse($$"""{ "msgtype": "m.text", "body": "x", "n": {{number}} }""")!.AsObject();
            if (version.StrictCanonicalJson)
            {
                var e = Assert.Throws<EventBuildException>(() => TestSigningKeys.Build(Message(version, content)));
                Assert.Equal(EventBuildError.BadJson, e.Error);
            }
            else
            {
                var built = TestSigningKeys.Build(Message(version, content));
                Assert.Equal(number, built.Pdu.Content.GetProperty("n").GetRawText());
            }
        }
    }
}
