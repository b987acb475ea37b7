using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Limits;

internal static class InputLimitsHttpContextExtensions
{
    private static readonly InputLimitsOptions Defaults = new();

    /// <summary>The configured limits; the defaults where no services are set up (a bare <see cref="DefaultHttpContext"/>).</summary>
    public static InputLimitsOptions InputLimits(this HttpContext context) =>
        context.RequestServices?.GetService<IOptions<InputLimitsOptions>>()?.Value ?? Defaults;

    public static InputLimitsOptions InputLimits(this HttpRequest request) => request.HttpContext.InputLimits();
}
