using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

public sealed class ServerProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Invalid_configuration_exits_non_zero_with_the_problem_on_stderr()
    {
        using var server = ServerProcess.Start("--urls=http://127.0.0.1:0", "--Storage:Kind=postgres");

        var exitCode = await server.WaitForExitAsync(Timeout);

        Assert.Equal(1, exitCode);
        Assert.Equal(
            "The server did not start: its configuration is invalid.\n  Storage:ConnectionString is required when Storage:Kind is postgres.",
            server.Output);
    }

    [Fact]
    public async Task Sigterm_shuts_down_cleanly_with_exit_code_zero()
    {
        var dataDirectory = TemporaryDirectory.NewPath();
        try
        {
            using var server = ServerProcess.Start("--urls=http://127.0.0.1:0", $"--DataDirectory={dataDirectory}", "--ShutdownTimeout=00:00:05");
            await server.WaitUntilStartedAsync(Timeout);

            server.SendSigterm();
            var exitCode = await server.WaitForExitAsync(Timeout);

            Assert.True(exitCode == 0, server.Output);
            Assert.Contains("Registration is open: default while every listen URL is loopback", server.Output);
            Assert.Contains("Application is shutting down...", server.Output);
            Assert.True(Directory.Exists(dataDirectory));
        }
        finally
        {
            TemporaryDirectory.Delete(dataDirectory);
        }
    }
}
