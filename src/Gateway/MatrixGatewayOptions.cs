namespace HomeServer.Gateway;

public sealed class MatrixGatewayOptions
{
    /// <summary>The URL clients use to reach this server, as announced in <c>/.well-known/matrix/client</c>.</summary>
    public string? PublicBaseUrl { get; set; }

    /// <summary>
    /// Largest request body accepted, in bytes; larger ones are answered with 413 <c>M_TOO_LARGE</c>.
    /// Events are at most 64 KiB, but to-device and key uploads for large rooms carry many of them.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;
}
