using HomeServer.Gateway.Limits;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Applies the body size limit of the request's endpoint: its own <see cref="IRequestSizeLimitMetadata"/> if it declares
/// one (as media upload will), else the configured bytes of its <see cref="BodySize"/> class, else
/// <see cref="MatrixGatewayOptions.MaxRequestBodyBytes"/>. The server then fails reads past the limit with a 413 that the
/// exception middleware reports as <c>M_TOO_LARGE</c>.
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<MatrixGatewayOptions> options, IOptions<InputLimitsOptions> limits)
{
    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = LimitOf(context.GetEndpoint());
        return next(context);
    }

    private long? LimitOf(Endpoint? endpoint)
    {
        if (endpoint?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } declared) return declared.MaxRequestBodySize;
        var largest = options.Value.MaxRequestBodyBytes;
        return endpoint?.Metadata.GetMetadata<BodySizeMetadata>()?.Size switch
        {
            BodySize.Small => Math.Min(largest, limits.Value.MaxSmallBodyBytes),
            BodySize.Event => Math.Min(largest, limits.Value.MaxEventBodyBytes),
            _ => largest,
        };
    }
}
