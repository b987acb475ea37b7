using Microsoft.AspNetCore.Builder;

namespace HomeServer.Gateway.Limits;

/// <summary>
/// The body size class an endpoint declares; the request body limit middleware turns it into the configured bytes.
/// Endpoints that declare none accept up to <see cref="MatrixGatewayOptions.MaxRequestBodyBytes"/>, which also caps
/// every class.
/// </summary>
public enum BodySize
{
    /// <summary><see cref="InputLimitsOptions.MaxSmallBodyBytes"/>: credentials, membership, receipts and other small objects.</summary>
    Small,

    /// <summary><see cref="InputLimitsOptions.MaxEventBodyBytes"/>: an event's content, or account data of the same size.</summary>
    Event,
}

internal sealed record BodySizeMetadata(BodySize Size);

internal static class BodySizeEndpointConventionBuilderExtensions
{
    public static TBuilder WithBodySize<TBuilder>(this TBuilder builder, BodySize size) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodySizeMetadata(size));
}
