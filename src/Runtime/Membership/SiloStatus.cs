namespace HomeServer.Runtime.Membership;

/// <summary>Lifecycle of a silo in the membership table. A silo only moves forward; Dead is final.</summary>
public enum SiloStatus
{
    None = 0,
    Joining = 2,
    Active = 3,
    /// <summary>Draining gracefully: no new activations are placed on it.</summary>
    ShuttingDown = 4,
    Dead = 6,
}
