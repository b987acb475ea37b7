namespace HomeServer.Grains.Federation;

/// <summary>How this server publishes its signing keys (configuration section <c>Federation</c>).</summary>
public sealed class ServerKeyOptions
{
    public const string SectionName = "Federation";

    /// <summary>The spec asks servers not to publish answers that expire within an hour.</summary>
    public static readonly TimeSpan MinKeyResponseValidity = TimeSpan.FromHours(1);

    /// <summary>Other servers use at most 7 days of <c>valid_until_ts</c>, so a longer one would promise nothing more.</summary>
    public static readonly TimeSpan MaxKeyResponseValidity = TimeSpan.FromDays(7);

    /// <summary>How far in the future <c>valid_until_ts</c> of <c>/_matrix/key/v2/server</c> lies: how long other
    /// servers may use the answer before asking again.</summary>
    public TimeSpan KeyResponseValidity { get; set; } = TimeSpan.FromDays(1);

    public bool IsValid => KeyResponseValidity >= MinKeyResponseValidity && KeyResponseValidity <= MaxKeyResponseValidity;
}
