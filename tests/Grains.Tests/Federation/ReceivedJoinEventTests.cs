using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Federation;

/// <summary>The checks of a received join that need no keys and no room state.</summary>
public class ReceivedJoinEventTests
{
    private const string RoomId = "!room:resident.example";
    private const string Origin = "remote.example";
    private const string Carol = "@carol:remote.example";

    [Theory]
    [InlineData("1")]
    [InlineData("3")]
    [InlineData("11")]
    public void A_well_formed_join_is_accepted_with_its_event_id_and_without_unsigned(string versionId)
    {
        var version = Version(versionId);
        var (eventId, join) = Join(version);
        join["unsigned"] = new JsonObject { ["age"] = 3 };

        var (checkedId, pdu) = ReceivedJoinEvent.Check(version, RoomId, Origin, eventId.Value, Bytes(join));

        Assert.Equal(eventId, checkedId);
        Assert.Null(pdu["unsigned"]);
        Assert.True(ReceivedJoinEvent.HasValidContentHash(version, pdu));
    }

    [Fact]
    public void Bare_event_ids_are_refused_where_the_room_version_cites_pairs()
    {
        var version = RoomVersion.V1;
        var (eventId, join) = Join(version);
        join["prev_events"] = new JsonArray("$abc:remote.example");

        var refused = Assert.Throws<MatrixRequestException>(() => ReceivedJoinEvent.Check(version, RoomId, Origin, eventId.Value, Bytes(join)));

        Assert.Equal("M_BAD_JSON", refused.ErrCode);
    }

    [Theory]
    [InlineData("depth", "1.5")]
    [InlineData("depth", "\"2\"")]
    [InlineData("origin_server_ts", "-1")]
    [InlineData("content", "[]")]
    [InlineData("hashes", "{}")]
    public void A_malformed_field_is_refused_as_bad_json(string field, string value)
    {
        var version = RoomVersion.V10;
        var (eventId, join) = Join(version);
        join[field] = JsonNode.Parse(value);

        var refused = Assert.Throws<MatrixRequestException>(() => ReceivedJoinEvent.Check(version, RoomId, Origin, eventId.Value, Bytes(join)));

        Assert.Equal("M_BAD_JSON", refused.ErrCode);
    }

    [Fact]
    public void An_event_over_64_KiB_is_too_large()
    {
        var version = RoomVersion.V10;
        var (eventId, join) = Join(version);
        join["content"]!["padding"] = new string('x', EventBuilder.MaxEventBytes);

        var refused = Assert.Throws<MatrixRequestException>(() => ReceivedJoinEvent.Check(version, RoomId, Origin, eventId.Value, Bytes(join)));

        Assert.Equal("M_TOO_LARGE", refused.ErrCode);
    }

    [Theory]
    [InlineData("room_id", "\"!other:resident.example\"")]
    [InlineData("type", "\"m.room.message\"")]
    [InlineData("state_key", "\"@dave:remote.example\"")]
    [InlineData("content", "{\"membership\":\"invite\"}")]
    public void A_join_of_another_room_or_not_a_join_of_its_sender_is_an_invalid_param(string field, string value)
    {
        var version = RoomVersion.V10;
        var (eventId, join) = Join(version);
        join[field] = JsonNode.Parse(value);

        var refused = Assert.Throws<MatrixRequestException>(() => ReceivedJoinEvent.Check(version, RoomId, Origin, eventId.Value, Bytes(join)));

        Assert.Equal("M_INVALID_PARAM", refused.ErrCode);
    }

    [Fact]
    public void A_sender_of_another_server_than_the_origin_is_an_invalid_param()
    {
        var version = RoomVersion.V10;
        var (eventId, join) = Join(version);

        var refused = Assert.Throws<MatrixRequestException>(() => ReceivedJoinEvent.Check(version, RoomId, "elsewhere.example", eventId.Value, Bytes(join)));

        Assert.Equal("M_INVALID_PARAM", refused.ErrCode);
    }

    [Fact]
    public void A_changed_content_keeps_the_event_id_but_fails_the_content_hash()
    {
        var version = RoomVersion.V10;
        var (eventId, join) = Join(version);
        join["content"]!["displayname"] = "changed";

        var (checkedId, pdu) = ReceivedJoinEvent.Check(version, RoomId, Origin, eventId.Value, Bytes(join));

        Assert.Equal(eventId, checkedId);
        Assert.False(ReceivedJoinEvent.HasValidContentHash(version, pdu));
    }

    private static RoomVersion Version(string id) => RoomVersion.TryGet(id, out var version) ? version : throw new ArgumentException(id);

    private static (EventId EventId, JsonObject Join) Join(RoomVersion version)
    {
        var auth = EventId.Opaque("create", "resident.example");
        var prev = EventId.Opaque("prev", "resident.example");
        var built = TestSigningKeys.Build(new EventDraft
        {
            RoomVersion = version,
            RoomId = HomeServer.Grains.Identifiers.RoomId.Parse(RoomId),
            Sender = UserId.Parse(Carol),
            Type = EventTypes.Member,
            StateKey = Carol,
            Content = new JsonObject { ["membership"] = Membership.Join },
            PrevEvents = [prev],
            AuthEvents = [auth],
            ReferencedContentHashes = new Dictionary<EventId, string> { [auth] = "aGFzaA", [prev] = "aGFzaA" },
            Depth = 7,
            OriginServerTs = 1_700_000_000_000,
        });
        return (built.EventId, JsonNode.Parse(built.Json)!.AsObject());
    }

    private static byte[] Bytes(JsonObject json) => Encoding.UTF8.GetBytes(json.ToJsonString());
}
