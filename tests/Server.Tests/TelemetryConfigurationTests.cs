using HomeServer.Silo;
using Microsoft.Extensions.Options;

namespace HomeServer.Server.Tests;

public sealed class TelemetryConfigurationTests
{
    [Fact]
    public void An_otlp_endpoint_that_is_not_a_url_is_a_configuration_error()
    {
        var error = Assert.Throws<OptionsValidationException>(() => HomeServerHost.Build(["--Telemetry:OtlpEndpoint=not a url"]));
        Assert.Contains("Telemetry:OtlpEndpoint", error.Message);
    }

    [Fact]
    public async Task A_valid_otlp_endpoint_starts_the_server_even_when_no_collector_listens()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"hs-otlp-{Guid.NewGuid():N}");
        await using var app = HomeServerHost.Build(["--urls=http://127.0.0.1:0", $"--DataDirectory={dataDirectory}", "--Telemetry:OtlpEndpoint=http://127.0.0.1:9"]);
        await app.StartAsync();
        await app.StopAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }
}
