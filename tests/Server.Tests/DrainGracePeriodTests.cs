using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Silo;
using Microsoft.Extensions.Options;

namespace HomeServer.Server.Tests;

public sealed class DrainGracePeriodTests
{
    [Fact]
    public async Task After_sigterm_the_server_reports_not_ready_but_keeps_serving_for_the_grace_period_then_exits_cleanly()
    {
        var directory = TemporaryDirectory.NewPath();
        using var server = ServerProcess.Start("--urls=http://127.0.0.1:0", $"--DataDirectory={directory}", "--DrainGracePeriod=00:00:04");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(await server.ListeningUrlAsync(TimeSpan.FromSeconds(60))) };
            await server.WaitUntilStartedAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

            server.SendSigterm();
            await Task.Delay(1000);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/_matrix/client/versions")).StatusCode);

            Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Contains("Not ready; serving for 4 s more", server.Output);
        }
        finally
        {
            TemporaryDirectory.Delete(directory);
        }
    }

    [Fact]
    public void A_grace_period_not_shorter_than_the_shutdown_timeout_is_refused()
    {
        var error = Assert.ThrowsAny<Exception>(() =>
            HomeServerHost.Build(["--urls=http://127.0.0.1:0", "--ShutdownTimeout=00:00:10", "--DrainGracePeriod=00:00:10"]));
        var validation = Assert.IsType<OptionsValidationException>(error is AggregateException aggregate ? aggregate.InnerExceptions[0] : error);
        Assert.Contains("DrainGracePeriod must be", validation.Message);
    }
}
