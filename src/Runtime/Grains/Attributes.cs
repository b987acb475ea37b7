namespace HomeServer.Runtime;

/// <summary>Names a grain interface on the wire. Without it the interface's full name is used.</summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>
/// The method runs without waiting for the activation's current turn and does not block other calls,
/// e.g. a long-poll that parks until something arrives. Its code must be safe to interleave.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class AlwaysInterleaveAttribute : Attribute;

/// <summary>
/// Calling the method twice has the same effect as calling it once (reads, long-polls, sends that carry a
/// transaction id), so the runtime may retry it on another silo after a transient failure.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IdempotentAttribute : Attribute;
