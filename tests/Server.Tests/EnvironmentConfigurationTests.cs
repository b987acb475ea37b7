using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests;

[Collection(EnvironmentVariableCollection.Name)]
public sealed class EnvironmentConfigurationTests
{
    [Fact]
    public async Task Prefixed_variables_bind_with_double_underscore_nesting()
    {
        using var _ = new EnvironmentVariables(new()
        {
            ["HOMESERVER_ServerName"] = "env.example.org",
            ["HOMESERVER_URLS"] = "http://0.0.0.0:8100",
            ["HOMESERVER_Storage__Kind"] = "postgres",
            ["HOMESERVER_Storage__ConnectionString"] = "Host=db;Database=matrix",
            ["HOMESERVER_Registration__Mode"] = "token",
            ["HOMESERVER_Registration__Tokens__0"] = "from-env",
        });

        var host = await BuiltServer.OptionsAsync<HomeServerOptions>();
        var storage = await BuiltServer.OptionsAsync<StorageOptions>();
        var registration = await BuiltServer.OptionsAsync<RegistrationOptions>();

        Assert.Equal("env.example.org", host.ServerName);
        Assert.Equal("http://0.0.0.0:8100", host.Urls);
        Assert.Equal(StorageKind.Postgres, storage.Kind);
        Assert.Equal("Host=db;Database=matrix", storage.ConnectionString);
        Assert.Equal(RegistrationMode.Token, registration.Mode);
        Assert.Equal(["from-env"], registration.Tokens);
    }

    [Fact]
    public async Task Command_line_wins_over_environment()
    {
        using var _ = new EnvironmentVariables(new() { ["HOMESERVER_ServerName"] = "env.example.org" });

        var host = await BuiltServer.OptionsAsync<HomeServerOptions>("--ServerName=cli.example.org");

        Assert.Equal("cli.example.org", host.ServerName);
    }

    [Fact]
    public async Task Unprefixed_variables_are_ignored()
    {
        using var _ = new EnvironmentVariables(new() { ["ServerName"] = "stray.example.org", ["Registration__Mode"] = "disabled" });

        var host = await BuiltServer.OptionsAsync<HomeServerOptions>();
        var policy = await BuiltServer.ReadAsync([], s => s.GetRequiredService<RegistrationPolicy>());

        Assert.Equal("localhost", host.ServerName);
        Assert.Equal(RegistrationMode.Open, policy.Mode);
    }

    private sealed class EnvironmentVariables : IDisposable
    {
        private readonly Dictionary<string, string?> _previous;

        public EnvironmentVariables(Dictionary<string, string> variables)
        {
            _previous = variables.Keys.ToDictionary(name => name, Environment.GetEnvironmentVariable);
            foreach (var (name, value) in variables)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }

        public void Dispose()
        {
            foreach (var (name, value) in _previous)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
