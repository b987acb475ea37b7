namespace HomeServer.Grains.Federation.Transport;

/// <summary>How this server connects to other servers (configuration section <c>Federation</c>).</summary>
public sealed class FederationTransportOptions
{
    public const string SectionName = "Federation";

    /// <summary>
    /// PEM files of CA certificates trusted in addition to the system's, for test networks with their own CA.
    /// Certificate verification itself cannot be turned off.
    /// </summary>
    public string[] TrustedCaCertificates { get; set; } = [];

    /// <summary>Lets federation connect to loopback, private and link-local addresses (test networks only).</summary>
    public bool AllowPrivateAddresses { get; set; }

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one request may take, from sending it to the end of the response body.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longer response bodies are refused; the largest expected are <c>/state</c> answers of big rooms.</summary>
    public long MaxResponseBytes { get; set; } = 64L * 1024 * 1024;

    public IEnumerable<string> Validate()
    {
        if (ConnectTimeout <= TimeSpan.Zero) yield return "Federation:ConnectTimeout must be more than zero.";
        if (RequestTimeout <= TimeSpan.Zero) yield return "Federation:RequestTimeout must be more than zero.";
        if (MaxResponseBytes <= 0) yield return "Federation:MaxResponseBytes must be more than zero.";
        foreach (var path in TrustedCaCertificates.Where(path => !File.Exists(path)))
            yield return $"Federation:TrustedCaCertificates: the file '{path}' does not exist.";
    }
}
