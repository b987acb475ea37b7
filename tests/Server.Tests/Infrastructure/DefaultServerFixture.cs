namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>One server with the default configuration, shared by tests that only read from it.</summary>
public sealed class DefaultServerFixture : IAsyncLifetime
{
    private RunningServer? _server;

    public RunningServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync() => _server = await RunningServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
