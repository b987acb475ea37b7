using Microsoft.AspNetCore.Http.Metadata;

namespace HomeServer.Gateway.Federation;

/// <summary>Limits of inbound federation requests (configuration section <c>Federation</c>).</summary>
public sealed class FederationRequestOptions
{
    public const string SectionName = "Federation";

    /// <summary>
    /// The largest request body a federation endpoint reads. A transaction holds at most 50 PDUs and 100 EDUs of at
    /// most 64 KiB each, under 10 MiB.
    /// </summary>
    public long MaxRequestBodyBytes { get; set; } = 12L * 1024 * 1024;
}

/// <summary>The body limit of federation endpoints, applied by the request body limit middleware.</summary>
internal sealed record FederationBodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata;
