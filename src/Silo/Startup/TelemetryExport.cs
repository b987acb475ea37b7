using HomeServer.Grains.Cluster;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace HomeServer.Silo.Startup;

/// <summary>
/// The homeserver's, Orleans' and ASP.NET Core's meters through OpenTelemetry: scraped by Prometheus at
/// <see cref="PrometheusPath"/> (server admins only), and pushed over OTLP when <c>Telemetry:OtlpEndpoint</c> is set
/// (e.g. http://otel-collector:4317).
/// </summary>
internal static class TelemetryExport
{
    public const string PrometheusPath = "/_homeserver/metrics";

    public static readonly string[] Meters =
    [
        ClusterMetrics.MeterName,
        "HomeServer.*",
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
    ];

    public static IServiceCollection AddTelemetryExport(this IServiceCollection services, IConfiguration configuration)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"];
        Uri? otlp = null;
        if (!string.IsNullOrWhiteSpace(endpoint) && !Uri.TryCreate(endpoint, UriKind.Absolute, out otlp))
            throw new OptionsValidationException("Telemetry", typeof(string), [$"Telemetry:OtlpEndpoint '{endpoint}' is not an absolute URL."]);
        services.AddOpenTelemetry().WithMetrics(metrics =>
        {
            metrics.AddMeter(Meters).AddPrometheusExporter();
            if (otlp is not null) metrics.AddOtlpExporter(options => options.Endpoint = otlp);
        });
        return services;
    }

    public static void MapTelemetryExport(this IEndpointRouteBuilder endpoints) => endpoints.MapPrometheusScrapingEndpoint(PrometheusPath);
}
