using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Gateway.RateLimiting;

internal static class RateLimitHttpContextExtensions
{
    public static RateLimits RateLimits(this HttpContext context) => context.RequestServices.GetRequiredService<RateLimits>();
}
