namespace HomeServer.Silo.Configuration;

/// <summary>Bound from the <c>Registration</c> section.</summary>
public sealed class RegistrationOptions
{
    public const string SectionName = "Registration";

    /// <summary>Unset means: open when every listen URL is loopback, disabled otherwise (see <see cref="RegistrationPolicy"/>).</summary>
    public RegistrationMode? Mode { get; set; }

    /// <summary>Secret for admin-side registration with an HMAC (the shared-secret registration API).</summary>
    public string? SharedSecret { get; set; }

    /// <summary>Whether guest accounts may be registered (<c>kind=guest</c>); off by default, as Synapse's <c>allow_guest_access</c>.</summary>
    public bool AllowGuests { get; set; }

    /// <summary>Tokens accepted when <see cref="Mode"/> is <see cref="RegistrationMode.Token"/>.</summary>
    public List<string> Tokens { get; set; } = [];
}
