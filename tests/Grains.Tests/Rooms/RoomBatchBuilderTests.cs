using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms;

public class RoomBatchBuilderTests
{
    [Fact]
    public void Events_form_one_linear_chain_with_auth_events_from_the_state_so_far()
    {
        var builder = PublicRoom();
        var before = builder.Events.Count;

        var join = builder.Add(Join(Bob));
        var message = builder.Add(Message(Bob, "hi"));

        Assert.Equal([join.EventId.Value], message.PrevEvents);
        Assert.Equal(builder.Events[before - 1].Pdu.EventId.Value, Assert.Single(join.PrevEvents));
        Assert.Equal(join.Json.GetProperty("depth").GetInt64() + 1, message.Json.GetProperty("depth").GetInt64());
        Assert.Contains(join.EventId.Value, message.AuthEvents);
        Assert.Contains(builder.State[StateEventKey.Create].EventId.Value, message.AuthEvents);
        Assert.Equal(Membership.Join, builder.View.MembershipOf(Bob));
    }

    [Fact]
    public void A_refused_event_throws_forbidden_with_the_reason_and_restoring_undoes_a_request()
    {
        var builder = PublicRoom();
        var mark = builder.Save();
        var count = builder.Events.Count;

        var refused = Assert.Throws<MatrixRequestException>(() => builder.Add(Message(Bob, "not joined")));
        Assert.Equal("M_FORBIDDEN", refused.ErrCode);
        Assert.Contains("not joined", refused.Error);

        builder.Add(Join(Bob));
        builder.Restore(mark);
        Assert.Equal(count, builder.Events.Count);
        Assert.Equal(Membership.Leave, builder.View.MembershipOf(Bob));
        Assert.DoesNotContain(builder.ToBatch().StateChanges, c => c.StateKey == Bob);
    }

    [Fact]
    public void A_state_event_equal_to_the_current_one_from_the_same_sender_adds_nothing()
    {
        var builder = PublicRoom();
        builder.Add(Join(Bob));
        var first = builder.Add(EventSpec.State("m.room.topic", "", Alice, new JsonObject { ["topic"] = "t", ["n"] = 1 }));
        var count = builder.Events.Count;

        var same = builder.AddUnlessUnchanged(EventSpec.State("m.room.topic", "", Alice, new JsonObject { ["n"] = 1, ["topic"] = "t" }));
        Assert.Equal(first.EventId, same.EventId);
        Assert.Equal(count, builder.Events.Count);

        var otherContent = builder.AddUnlessUnchanged(EventSpec.State("m.room.topic", "", Alice, new JsonObject { ["topic"] = "t", ["n"] = 2 }));
        Assert.NotEqual(first.EventId, otherContent.EventId);
        var message = builder.AddUnlessUnchanged(Message(Alice, "not state"));
        var again = builder.AddUnlessUnchanged(Message(Alice, "not state"));
        Assert.NotEqual(message.EventId, again.EventId);
        Assert.Equal(count + 3, builder.Events.Count);
    }

    [Fact]
    public void State_events_record_what_they_replace_and_the_batch_points_the_slots_at_them()
    {
        var builder = PublicRoom();
        var first = builder.Add(EventSpec.State("m.room.name", "", Alice, new JsonObject { ["name"] = "one" }));
        var second = builder.Add(EventSpec.State("m.room.name", "", Alice, new JsonObject { ["name"] = "two" }));

        Assert.Equal(first.EventId.Value, StoredEventJson.ReplacesState(second.Json));
        Assert.Equal("one", second.Json.GetProperty("unsigned").GetProperty("prev_content").GetProperty("name").GetString());
        Assert.Equal(second.EventId, builder.State[new StateEventKey("m.room.name", "")].EventId);
        var changes = builder.ToBatch().StateChanges.Where(c => c.EventType == "m.room.name").Select(c => c.EventId);
        // The store takes one change per slot and batch: the last.
        Assert.Equal([second.EventId.Value], changes);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("11")]
    public void A_redaction_stores_the_redacted_form_and_strips_redacted_state(string versionId)
    {
        RoomVersion.TryGet(versionId, out var version);
        var builder = PublicRoom(version);
        var name = builder.Add(EventSpec.State("m.room.name", "", Alice, new JsonObject { ["name"] = "secret" }));

        var redaction = builder.Add(new EventSpec(EventTypes.Redaction, null, Alice, new JsonObject { ["reason"] = "x" }) { RedactedOriginal = name });

        var stored = Assert.Single(builder.ToBatch().Redactions);
        Assert.Equal(name.EventId.Value, stored.EventId);
        var redacted = Pdu.Parse(name.EventId, stored.RedactedJson);
        Assert.Empty(redacted.Content.EnumerateObject());
        Assert.Equal(redaction.EventId.Value, redacted.Json.GetProperty("unsigned").GetProperty("redacted_because").GetProperty("event_id").GetString());
        Assert.Empty(builder.State[new StateEventKey("m.room.name", "")].Content.EnumerateObject());
        Assert.Equal(name.EventId, RedactionAuthorizer.GetRedactedEventId(version!, redaction));
    }

    [Fact]
    public void Redacting_another_users_event_needs_the_redact_level()
    {
        var builder = PublicRoom();
        builder.Add(Join(Bob));
        var alices = builder.Add(Message(Alice, "mine"));
        var bobs = builder.Add(Message(Bob, "his"));

        var refused = Assert.Throws<MatrixRequestException>(() =>
            builder.Add(new EventSpec(EventTypes.Redaction, null, Bob, []) { RedactedOriginal = alices }));
        Assert.Equal("M_FORBIDDEN", refused.ErrCode);
        builder.Add(new EventSpec(EventTypes.Redaction, null, Bob, []) { RedactedOriginal = bobs });
        builder.Add(new EventSpec(EventTypes.Redaction, null, Alice, []) { RedactedOriginal = alices });
        Assert.Equal(2, builder.ToBatch().Redactions.Count);
    }

    [Fact]
    public void Content_that_cannot_be_an_event_is_refused_with_the_matching_error()
    {
        var builder = PublicRoom();

        var fraction = Assert.Throws<MatrixRequestException>(() =>
            builder.Add(new EventSpec("m.room.message", null, Alice, new JsonObject { ["weight"] = 1.5 })));
        var tooLarge = Assert.Throws<MatrixRequestException>(() =>
            builder.Add(new EventSpec("m.room.message", null, Alice, new JsonObject { ["body"] = new string('x', 70_000) })));

        Assert.Equal("M_BAD_JSON", fraction.ErrCode);
        Assert.Equal("M_TOO_LARGE", tooLarge.ErrCode);
    }
}
