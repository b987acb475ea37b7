using HomeServer.Runtime.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace HomeServer.Silo.Startup;

/// <summary>
/// Exports the runtime's, the homeserver's and ASP.NET Core's meters over OTLP when
/// <c>Telemetry:OtlpEndpoint</c> is set (e.g. http://otel-collector:4317); otherwise nothing is exported.
/// </summary>
internal static class TelemetryExport
{
    public static readonly string[] Meters =
    [
        RuntimeMetrics.MeterName,
        "HomeServer.*",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
    ];

    public static IServiceCollection AddTelemetryExport(this IServiceCollection services, IConfiguration configuration)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"];
        if (string.IsNullOrWhiteSpace(endpoint)) return services;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
            throw new OptionsValidationException("Telemetry", typeof(string), [$"Telemetry:OtlpEndpoint '{endpoint}' is not an absolute URL."]);
        // Built eagerly and owned by the container, which disposes (and so flushes) it at shutdown.
        var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(Meters)
            .AddOtlpExporter(options => options.Endpoint = uri)
            .Build();
        services.AddSingleton(provider);
        return services;
    }
}
