using System.Text.Json.Nodes;
using HomeServer.Grains.Tests.Federation;
using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;

namespace HomeServer.Grains.Tests.Rooms;

/// <summary>Builds real rooms in memory with the batch builder, for tests of what reads and writes do with them.</summary>
internal static class RoomTestEvents
{
    public const string RoomId = "!room:test";
    public const string Alice = "@alice:test";
    public const string Bob = "@bob:test";

    public static long Clock() => 1_700_000_000_000;

    /// <summary>A public v10 room created by Alice, as a builder ready for more events.</summary>
    public static RoomBatchBuilder PublicRoom(RoomVersion? version = null)
    {
        var plan = PublicRoomPlan(version);
        var builder = new RoomBatchBuilder(RoomSnapshot.Empty(RoomId, plan.Version), Clock, TestSigningKeys.For("test"));
        foreach (var spec in plan.Events) builder.Add(spec);
        return builder;
    }

    public static RoomCreationPlan PublicRoomPlan(RoomVersion? version = null) =>
        RoomCreationPlan.Create(new CreateRoomRequest(Alice) { Preset = "public_chat", RoomVersion = (version ?? RoomVersion.V10).Id },
            new LocalServer("test"));

    public static EventSpec Message(string sender, string body) =>
        new("m.room.message", null, sender, new JsonObject { ["msgtype"] = "m.text", ["body"] = body });

    public static EventSpec Join(string userId) => EventSpec.Member(userId, userId, new JsonObject { ["membership"] = Membership.Join });
}
