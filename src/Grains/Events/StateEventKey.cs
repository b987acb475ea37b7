namespace HomeServer.Grains.Events;

/// <summary>The (type, state_key) pair that identifies a slot in the room state.</summary>
public readonly record struct StateEventKey(string Type, string StateKey)
{
    public static StateEventKey Create { get; } = new(EventTypes.Create, "");
    public static StateEventKey PowerLevels { get; } = new(EventTypes.PowerLevels, "");
    public static StateEventKey JoinRules { get; } = new(EventTypes.JoinRules, "");

    public static StateEventKey Member(string userId) => new(EventTypes.Member, userId);

    public override string ToString() => $"({Type}, {StateKey})";
}
