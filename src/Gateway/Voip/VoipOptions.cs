namespace HomeServer.Gateway.Voip;

/// <summary>
/// The TURN server clients use for calls, as <c>GET /voip/turnServer</c> hands it out. With a shared secret (coturn's
/// <c>static-auth-secret</c>), each user gets time-limited credentials of coturn's REST API; otherwise a fixed
/// username and password. Without URIs the endpoint answers <c>{}</c>: no TURN server.
/// </summary>
public sealed class VoipOptions
{
    public const string SectionName = "Voip";

    /// <summary>TURN URIs, e.g. <c>turn:turn.example.org:3478?transport=udp</c>.</summary>
    public string[] TurnUris { get; set; } = [];

    /// <summary>The secret shared with the TURN server, for time-limited credentials.</summary>
    public string? TurnSharedSecret { get; set; }

    /// <summary>Fixed credentials, used when no shared secret is set.</summary>
    public string? TurnUsername { get; set; }

    public string? TurnPassword { get; set; }

    /// <summary>How long credentials stay valid (as Synapse's default, one day).</summary>
    public TimeSpan TurnUserLifetime { get; set; } = TimeSpan.FromDays(1);

    public IEnumerable<string> Validate()
    {
        if (TurnUserLifetime < TimeSpan.FromSeconds(1)) yield return "Voip:TurnUserLifetime must be at least one second.";
        foreach (var uri in TurnUris)
        {
            if (!(uri.StartsWith("turn:", StringComparison.Ordinal) || uri.StartsWith("turns:", StringComparison.Ordinal)))
                yield return $"Voip:TurnUris must be turn: or turns: URIs (got '{uri}').";
        }
        if (TurnUris.Length > 0 && string.IsNullOrEmpty(TurnSharedSecret) && (string.IsNullOrEmpty(TurnUsername) || string.IsNullOrEmpty(TurnPassword)))
            yield return "Voip:TurnUris needs Voip:TurnSharedSecret, or Voip:TurnUsername and Voip:TurnPassword.";
    }
}
