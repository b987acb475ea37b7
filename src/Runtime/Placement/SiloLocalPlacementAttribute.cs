namespace HomeServer.Runtime;

/// <summary>
/// The grain's key is a silo address (<see cref="Membership.SiloAddress.ToString"/>) and the grain lives on that silo
/// only: one activation per silo, e.g. a per-silo hub. Calls go straight to that silo; when it is not Active they fail
/// at once with <see cref="SiloUnavailableException"/> and are never placed elsewhere.
/// </summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class SiloLocalPlacementAttribute : Attribute;
