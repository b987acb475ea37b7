namespace HomeServer.Gateway.Accounts;

/// <summary>Who may create accounts; the host fills it in from its registration configuration.</summary>
public sealed class RegistrationSettings
{
    /// <summary>Whether <c>POST /register</c> creates accounts at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Whether registering needs one of <see cref="Tokens"/> (the <c>m.login.registration_token</c> stage).</summary>
    public bool RequiresToken { get; set; }

    public IReadOnlyList<string> Tokens { get; set; } = [];

    /// <summary>Whether <c>POST /register?kind=guest</c> creates guest accounts (Synapse's <c>allow_guest_access</c>, off by default).</summary>
    public bool AllowGuests { get; set; }

    /// <summary>Enables the shared-secret registration API (<c>/_synapse/admin/v1/register</c>) when set.</summary>
    public string? SharedSecret { get; set; }
}
