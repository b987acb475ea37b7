using HomeServer.Gateway.Errors;
using HomeServer.Grains.Federation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Gateway.Federation;

/// <summary>
/// The <c>X-Matrix</c> check of authenticated federation endpoints: reads the body (within the endpoint's size
/// limit), has <see cref="IFederationRequestAuthGrain"/> verify the signature over method, raw request target, origin,
/// destination and body, and refuses with 401 <c>M_UNAUTHORIZED</c>. The endpoint then finds the origin with
/// <see cref="FederationOrigin"/> and the body with <see cref="FederationBody"/>.
/// </summary>
internal static class FederationAuthentication
{
    private const string OriginItem = "federation.origin";
    private const string BodyItem = "federation.body";

    public static TBuilder RequireFederationAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            await AuthenticateAsync(context.HttpContext);
            return await next(context);
        });

    public static string FederationOrigin(this HttpContext context) =>
        context.Items[OriginItem] as string ?? throw new InvalidOperationException("The endpoint does not require federation authentication.");

    public static byte[] FederationBody(this HttpContext context) => context.Items[BodyItem] as byte[] ?? [];

    private static async Task AuthenticateAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context.Request);
        var request = new InboundFederationRequest(
            context.Request.Method,
            // The target exactly as sent, still escaped: that is what the origin signed.
            context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path + context.Request.QueryString,
            context.Request.Headers.Authorization.Where(h => h is not null).Select(h => h!).ToList(),
            body);
        var grains = context.RequestServices.GetRequiredService<IGrainFactory>();
        var result = await grains.GetGrain<IFederationRequestAuthGrain>("local").AuthenticateAsync(request);
        if (result.Outcome != FederationAuthOutcome.Authenticated || result.Origin is null)
            throw new MatrixException(StatusCodes.Status401Unauthorized, "M_UNAUTHORIZED", result.Message);
        context.Items[OriginItem] = result.Origin;
        context.Items[BodyItem] = body;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        return buffer.ToArray();
    }
}
