using Microsoft.AspNetCore.HttpLogging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Request logs without secrets. ASP.NET Core's hosting layer logs every request line with its query string, where
/// clients may put <c>access_token</c>; its category is held at Warning, and the framework's HTTP logging takes its place
/// with method, path (no query), status and duration, under <c>Microsoft.AspNetCore.HttpLogging</c> at Information.
/// Headers and bodies (Authorization, passwords) are never logged.
/// </summary>
internal static class RequestLogging
{
    private const string HostingRequestLines = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public static IServiceCollection AddRequestLoggingWithoutSecrets(this IServiceCollection services)
    {
        services.AddLogging(logging => logging.AddFilter(HostingRequestLines, LogLevel.Warning));
        services.AddHttpLogging(options =>
        {
            options.LoggingFields = HttpLoggingFields.RequestMethod | HttpLoggingFields.RequestPath
                | HttpLoggingFields.ResponseStatusCode | HttpLoggingFields.Duration;
            options.CombineLogs = true;
        });
        return services;
    }
}
