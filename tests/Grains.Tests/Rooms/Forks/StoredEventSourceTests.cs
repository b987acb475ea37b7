using HomeServer.Grains.Events;
using HomeServer.Grains.Rooms.Forks;
using static HomeServer.Grains.Tests.Rooms.RoomTestEvents;

namespace HomeServer.Grains.Tests.Rooms.Forks;

public class StoredEventSourceTests
{
    [Fact]
    public async Task Loads_the_roots_and_their_whole_auth_chains_once_each_and_leaves_unknown_events_out()
    {
        var builder = PublicRoom();
        var events = builder.Events.Select(e => e.Pdu).ToDictionary(e => e.EventId.Value);
        var message = builder.Add(Message(Alice, "hi"));
        var lookups = new List<string>();

        var source = await StoredEventSource.LoadAsync([message.EventId, HomeServer.Grains.Identifiers.EventId.Parse("$unknown:test")], [message], id =>
        {
            lookups.Add(id);
            return Task.FromResult(events.GetValueOrDefault(id));
        });

        // The message's auth events (create, power levels, Alice's join) and theirs: the create event and Alice's join.
        Assert.True(source.TryGet(message.EventId, out _));
        foreach (var authId in message.AuthEvents) Assert.True(source.TryGet(HomeServer.Grains.Identifiers.EventId.Parse(authId), out _), authId);
        Assert.False(source.TryGet(HomeServer.Grains.Identifiers.EventId.Parse("$unknown:test"), out _));
        Assert.Equal(lookups.Count, lookups.Distinct().Count());
        Assert.DoesNotContain(message.EventId.Value, lookups); // Given in memory: not looked up.
        Assert.False(source.IsRejected(message.EventId));
    }
}
