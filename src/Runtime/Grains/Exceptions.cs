namespace HomeServer.Runtime;

/// <summary>The grain type or interface is not known to this runtime.</summary>
public sealed class UnknownGrainTypeException(string message) : Exception(message);

/// <summary>The grain interface has no method of that name.</summary>
public sealed class UnknownGrainMethodException(string message) : Exception(message);

/// <summary>The call did not complete within its timeout; whether it ran is unknown.</summary>
public sealed class GrainCallTimeoutException(string message) : TimeoutException(message);

/// <summary>
/// The call was rejected before it ran because the target silo does not (or no longer) host the grain,
/// e.g. during a drain. Safe to retry.
/// </summary>
public sealed class TransientRejectionException(string message) : Exception(message);

/// <summary>The silo that owned the grain cannot be reached.</summary>
public sealed class SiloUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A call meant only for a local activation (<see cref="IGrainLocator.GetIfActiveHere{TGrain}"/>) found none; it did not run.</summary>
public sealed class GrainNotActiveException(string message) : Exception(message);

/// <summary>
/// A grain on another silo threw an exception whose type cannot be recreated here.
/// <see cref="RemoteType"/> names the original type; <see cref="Exception.Message"/> is its message.
/// </summary>
public sealed class RemoteGrainException(string remoteType, string message) : Exception(message)
{
    public string RemoteType { get; } = remoteType;
}
