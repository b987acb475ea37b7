namespace HomeServer.Grains;

/// <summary>
/// Marks a grain method that may safely run twice: a call that failed because its silo went away or refused it before
/// running is sent again (see <c>IdempotentRetryFilter</c>). Reads, and writes deduplicated by a transaction id.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IdempotentAttribute : Attribute;
