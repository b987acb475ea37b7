using System.Text.Json;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>The batch builder lays out a room of every version in that version's event format.</summary>
public class RoomVersionBatchTests
{
    public static TheoryData<string> AllVersions => new(RoomVersion.Supported.Select(v => v.Id));

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Each_version_cites_previous_and_auth_events_in_its_format(string id)
    {
        Assert.True(RoomVersion.TryGet(id, out var version));
        var builder = PublicRoom(version);
        var join = builder.Add(Join(Bob));
        var mark = builder.Save();
        builder.Add(Message(Bob, "undone"));
        builder.Restore(mark);
        var message = builder.Add(Message(Bob, "hi"));

        var prevEvents = message.Json.GetProperty("prev_events");
        var authEvents = message.Json.GetProperty("auth_events");
        Assert.Equal([join.EventId.Value], message.PrevEvents);
        Assert.Contains(join.EventId.Value, message.AuthEvents);
        if (version.EventIdInEvent)
        {
            Assert.Equal(message.EventId.Value, message.Json.GetProperty("event_id").GetString());
            // After the restore the cited hash is the join's again, not the undone message's.
            Assert.Equal(join.ContentHash, prevEvents[0][1].GetProperty("sha256").GetString());
            foreach (var pair in authEvents.EnumerateArray())
            {
                var cited = builder.State.Values.Single(e => e.EventId.Value == pair[0].GetString());
                Assert.Equal(cited.ContentHash, pair[1].GetProperty("sha256").GetString());
            }
        }
        else
        {
            Assert.False(message.Json.TryGetProperty("event_id", out _));
            Assert.Equal(JsonValueKind.String, prevEvents[0].ValueKind);
            Assert.All(authEvents.EnumerateArray(), e => Assert.Equal(JsonValueKind.String, e.ValueKind));
        }
    }
}
