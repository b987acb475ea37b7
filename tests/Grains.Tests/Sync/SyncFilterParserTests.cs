using System.Text;
using HomeServer.Grains.Sync.Filtering;

namespace HomeServer.Grains.Tests.Sync;

public class SyncFilterParserTests
{
    private static SyncFilter Parse(string json) => SyncFilterParser.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void An_empty_filter_is_the_default()
    {
        var filter = Parse("{}");

        Assert.Equal(SyncFilter.DefaultTimelineLimit, filter.TimelineLimit);
        Assert.False(filter.Room.IncludeLeave);
        Assert.True(filter.Room.Timeline.Matches("!r:hs", "m.room.message", "@a:hs", () => false));
    }

    [Fact]
    public void Every_section_is_read()
    {
        var filter = Parse("""
            {"account_data":{"types":["m.direct"]},
             "room":{"rooms":["!a:hs"],"not_rooms":["!b:hs"],"include_leave":true,
                     "timeline":{"limit":500,"not_senders":["@spam:hs"],"contains_url":true},
                     "state":{"lazy_load_members":true,"include_redundant_members":true},
                     "ephemeral":{"not_types":["m.typing"]}}}
            """);

        Assert.True(filter.AccountData.Matches("m.direct", null));
        Assert.False(filter.AccountData.Matches("m.push_rules", null));
        Assert.True(filter.Room.MatchesRoom("!a:hs"));
        Assert.False(filter.Room.MatchesRoom("!b:hs"));
        Assert.False(filter.Room.MatchesRoom("!c:hs"));
        Assert.True(filter.Room.IncludeLeave);
        Assert.Equal(SyncFilter.MaxTimelineLimit, filter.TimelineLimit);
        Assert.False(filter.Room.Timeline.Matches("!a:hs", "m.room.message", "@spam:hs", () => true));
        Assert.False(filter.Room.Timeline.Matches("!a:hs", "m.room.message", "@friend:hs", () => false));
        Assert.True(filter.Room.Timeline.Matches("!a:hs", "m.room.message", "@friend:hs", () => true));
        Assert.True(filter.Room.State.LazyLoadMembers);
        Assert.True(filter.Room.State.IncludeRedundantMembers);
        Assert.False(filter.Room.Ephemeral.Matches("m.typing", null));
        Assert.True(filter.Room.Ephemeral.Matches("m.receipt", null));
    }

    [Theory]
    [InlineData("m.*", "m.room.message", true)]
    [InlineData("m.room.*", "m.room", false)]
    [InlineData("*.message", "m.room.message", true)]
    [InlineData("m.*.member", "m.room.member", true)]
    [InlineData("m.*.member", "m.room.message", false)]
    [InlineData("*", "anything", true)]
    [InlineData("m.room.message", "m.room.message", true)]
    [InlineData("m.room.message", "m.room.messages", false)]
    public void Type_patterns_use_star_as_a_wildcard(string pattern, string type, bool matches) =>
        Assert.Equal(matches, new EventFilter { Types = [pattern] }.Matches(type, null));

    [Fact]
    public void Not_types_win_over_types()
    {
        var filter = new EventFilter { Types = ["m.*"], NotTypes = ["m.room.member"] };

        Assert.True(filter.Matches("m.room.message", null));
        Assert.False(filter.Matches("m.room.member", null));
    }

    [Theory]
    [InlineData("{not json", "M_NOT_JSON")]
    [InlineData("[]", "M_BAD_JSON")]
    [InlineData("""{"room":[]}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"timeline":{"limit":-1}}}""", "M_BAD_JSON")]
    [InlineData("""{"event_format":"raw"}""", "M_BAD_JSON")]
    [InlineData("""{"event_fields":["type",2]}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"timeline":{"limit":1.5}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"timeline":{"types":"m.room.message"}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"state":{"lazy_load_members":"yes"}}}""", "M_BAD_JSON")]
    [InlineData("""{"room":{"rooms":[1]}}""", "M_BAD_JSON")]
    public void Malformed_filters_are_refused(string json, string errcode)
    {
        var refusal = Assert.Throws<MatrixRequestException>(() => Parse(json));

        Assert.Equal(errcode, refusal.ErrCode);
    }

    [Fact]
    public void A_timeline_limit_of_zero_the_event_format_and_event_fields_are_read()
    {
        var filter = Parse("""{"room":{"timeline":{"limit":0}},"event_format":"federation","event_fields":["type","content.body"]}""");

        Assert.Equal(0, filter.TimelineLimit);
        Assert.Equal(EventFormat.Federation, filter.EventFormat);
        Assert.Equal(["type", "content.body"], filter.EventFields);
        Assert.Equal(EventFormat.Client, Parse("{}").EventFormat);
        Assert.Null(Parse("{}").EventFields);
    }
}
