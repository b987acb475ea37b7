using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Applies <see cref="MatrixGatewayOptions.MaxRequestBodyBytes"/> to each request, unless its endpoint
/// declares its own limit (as media upload will). The server then fails reads past the limit with a
/// 413 that the exception middleware reports as <c>M_TOO_LARGE</c>.
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, IOptions<MatrixGatewayOptions> options)
{
    public Task InvokeAsync(HttpContext context)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            var endpointLimit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
            feature.MaxRequestBodySize = endpointLimit is null ? options.Value.MaxRequestBodyBytes : endpointLimit.MaxRequestBodySize;
        }

        return next(context);
    }
}
