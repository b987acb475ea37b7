using HomeServer.Grains.Events;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.StateResolution.RoomDag;

namespace HomeServer.Grains.Tests.Events.StateResolution;

/// <summary>
/// Random partitions: three branches each take a random series of allowed actions (power changes, kicks, bans,
/// joins, topics), and the states must resolve to the same answer in every order of the inputs.
/// </summary>
public class StateResolutionOrderTests
{
    private static readonly UserId[] Users = [Alice, Bob, Carol, Dave, Erin];

    [Theory]
    [InlineData("1", 1)]
    [InlineData("1", 2)]
    [InlineData("2", 3)]
    [InlineData("2", 4)]
    [InlineData("10", 5)]
    [InlineData("11", 6)]
    [InlineData("11", 7)]
    [InlineData("11", 8)]
    public void Random_partitions_resolve_the_same_in_every_order(string version, int seed)
    {
        var random = new Random(seed);
        var (dag, root) = CreateRoom(version, (Erin, 100), (Bob, 50), (Carol, 50), (Dave, 0));
        var branches = new[] { root.Branch(), root.Branch(), root.Branch() };
        var actions = 0;
        for (var step = 0; step < 60; step++)
        {
            var branch = branches[random.Next(branches.Length)];
            if (TryRandomAction(dag, branch, random))
                actions++;
        }

        var resolved = Resolution.OfForks(dag, branches);

        Assert.True(actions > 5, $"only {actions} actions were allowed");
        Assert.Equal(root.State[StateEventKey.Create].EventId, resolved.Slot(StateEventKey.Create));
        Assert.True(resolved.ContainsKey(StateEventKey.PowerLevels));
    }

    /// <summary>One random action, sent only if the rules allow it on this branch.</summary>
    private static bool TryRandomAction(RoomDag dag, RoomFork branch, Random random)
    {
        var sender = Users[random.Next(Users.Length)];
        var target = Users[random.Next(Users.Length)];
        var (type, stateKey, content) = random.Next(5) switch
        {
            0 => (EventTypes.PowerLevels, "", PowerLevelsContent(Users.ToDictionary(user => user, _ => random.Next(4) * 25))),
            1 => (EventTypes.Member, target.Value, """{ "membership": "ban" }"""),
            2 => (EventTypes.Member, target.Value, """{ "membership": "leave" }"""),
            3 => (EventTypes.Member, sender.Value, """{ "membership": "join" }"""),
            _ => ("m.room.topic", "", $$"""{ "topic": "{{random.Next()}}" }"""),
        };
        var candidate = dag.Build(sender, type, stateKey, content, branch.State, [], 1, 0);
        if (!EventAuthorizer.Authorize(dag.Version, candidate, branch.State).IsAllowed)
            return false;
        branch.Send(sender, type, stateKey, content, originServerTs: dag.NextTimestamp() - random.Next(30));
        return true;
    }
}
