namespace HomeServer.Grains.Presence;

/// <summary>Whether presence is tracked and shared (as Synapse's <c>presence.enabled</c>).</summary>
public sealed class PresenceOptions
{
    public const string SectionName = "Presence";

    /// <summary>
    /// When false the presence endpoints still answer and PUT still stores the user's own status, but /sync neither
    /// marks users online nor sends presence, and no change fans out to other users.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long an online user may be inactive before it becomes unavailable (Synapse's IDLE_TIMER, 5 minutes).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
