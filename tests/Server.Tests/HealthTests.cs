using System.Net;
using HomeServer.Gateway.Health;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace HomeServer.Server.Tests;

public sealed class HealthTests
{
    [Fact]
    public async Task A_started_server_is_healthy_live_and_ready()
    {
        await using var server = await RunningServer.StartAsync();

        foreach (var path in new[] { "/health", "/health/live", "/health/ready" })
        {
            using var response = await server.Client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Marking_not_ready_fails_readiness_but_not_liveness_until_marked_ready_again()
    {
        await using var server = await RunningServer.StartAsync();
        var readiness = server.App.Services.GetRequiredService<ReadinessState>();

        readiness.MarkNotReady("draining");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/health/live")).StatusCode);

        readiness.MarkReady();

        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task Readiness_check_fails_once_the_application_is_stopping()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        var check = new ReadinessHealthCheck(new ReadinessState(), lifetime);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext())).Status);

        lifetime.StopApplication();

        var result = await check.CheckHealthAsync(new HealthCheckContext());
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("shutting down", result.Description);
    }
}
