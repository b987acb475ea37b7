using HomeServer.Gateway;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HomeServer.Server.Tests;

public sealed class ConfigurationTests
{
    [Fact]
    public async Task Defaults_match_the_documented_single_node_setup()
    {
        var host = await BuiltServer.OptionsAsync<HomeServerOptions>();
        var storage = await BuiltServer.OptionsAsync<StorageOptions>();
        var gateway = await BuiltServer.OptionsAsync<MatrixGatewayOptions>();
        var registration = await BuiltServer.ReadAsync([], services => services.GetRequiredService<RegistrationPolicy>());

        Assert.Equal("http://localhost:8008", host.Urls);
        Assert.Equal("localhost", host.ServerName);
        Assert.Equal("./data", host.DataDirectory);
        Assert.Equal(TimeSpan.FromSeconds(30), host.ShutdownTimeout);
        Assert.Equal(StorageKind.Sqlite, storage.Kind);
        Assert.Equal("Data Source=./data/homeserver.db", storage.ConnectionString);
        Assert.Equal("http://localhost:8008", gateway.PublicBaseUrl);
        Assert.Equal(1024 * 1024, gateway.MaxRequestBodyBytes);
        Assert.Equal(RegistrationMode.Open, registration.Mode);
    }

    [Fact]
    public async Task Command_line_binds_every_section()
    {
        string[] args =
        [
            "--urls=http://0.0.0.0:9000;http://[::1]:9001",
            "--ServerName=example.org",
            "--DataDirectory=/var/lib/homeserver",
            "--ShutdownTimeout=00:00:05",
            "--PublicBaseUrl=https://matrix.example.org",
            "--MaxRequestBodyBytes=65536",
            "--Storage:Kind=Postgres",
            "--Storage:ConnectionString=Host=db;Database=matrix;Password=secret",
            "--Registration:Mode=token",
            "--Registration:Tokens:0=first-token",
            "--Registration:Tokens:1=second.token",
            "--Registration:SharedSecret=a-long-shared-secret",
        ];

        var host = await BuiltServer.OptionsAsync<HomeServerOptions>(args);
        var storage = await BuiltServer.OptionsAsync<StorageOptions>(args);
        var registration = await BuiltServer.OptionsAsync<RegistrationOptions>(args);
        var gateway = await BuiltServer.OptionsAsync<MatrixGatewayOptions>(args);
        var shutdownTimeout = await BuiltServer.ReadAsync(args, s => s.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);

        Assert.Equal("http://0.0.0.0:9000;http://[::1]:9001", host.Urls);
        Assert.Equal("example.org", host.ServerName);
        Assert.Equal("/var/lib/homeserver", host.DataDirectory);
        Assert.Equal(TimeSpan.FromSeconds(5), host.ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), shutdownTimeout);
        Assert.Equal("https://matrix.example.org", gateway.PublicBaseUrl);
        Assert.Equal(65536, gateway.MaxRequestBodyBytes);
        Assert.Equal(StorageKind.Postgres, storage.Kind);
        Assert.Equal("Host=db;Database=matrix;Password=secret", storage.ConnectionString);
        Assert.Equal(RegistrationMode.Token, registration.Mode);
        Assert.Equal(["first-token", "second.token"], registration.Tokens);
        Assert.Equal("a-long-shared-secret", registration.SharedSecret);
    }

    [Fact]
    public async Task Sqlite_file_defaults_into_the_configured_data_directory()
    {
        var storage = await BuiltServer.OptionsAsync<StorageOptions>("--DataDirectory=/srv/matrix");

        Assert.Equal("Data Source=/srv/matrix/homeserver.db", storage.ConnectionString);
    }

    [Theory]
    [InlineData("http://127.0.0.1:0", RegistrationMode.Open)]
    [InlineData("http://localhost:8008;http://[::1]:8009", RegistrationMode.Open)]
    [InlineData("http://0.0.0.0:8008", RegistrationMode.Disabled)]
    [InlineData("http://localhost:8008;http://*:8009", RegistrationMode.Disabled)]
    public async Task Registration_defaults_to_open_only_when_every_listen_url_is_loopback(string urls, RegistrationMode expected)
    {
        var policy = await BuiltServer.ReadAsync([$"--urls={urls}"], s => s.GetRequiredService<RegistrationPolicy>());

        Assert.Equal(expected, policy.Mode);
        Assert.StartsWith("default", policy.Reason);
    }

    [Fact]
    public async Task Configured_registration_mode_wins_over_the_default()
    {
        var policy = await BuiltServer.ReadAsync(
            ["--urls=http://127.0.0.1:0", "--Registration:Mode=disabled"],
            s => s.GetRequiredService<RegistrationPolicy>());

        Assert.Equal(new RegistrationPolicy(RegistrationMode.Disabled, "set by Registration:Mode"), policy);
    }

    [Fact]
    public async Task Start_creates_the_data_directory_and_logs_the_effective_settings()
    {
        await using var server = await RunningServer.StartAsync(["--ServerName=example.org"]);

        Assert.True(Directory.Exists(server.DataDirectory));
        var messages = server.Logs.Entries.Where(e => e.Level == LogLevel.Information).Select(e => e.Message).ToArray();
        Assert.Contains("Registration is open: default while every listen URL is loopback", messages);
        Assert.Contains(messages, m => m.StartsWith("Server name example.org, public base URL http://127.0.0.1:0, listen URLs http://127.0.0.1:0"));
        Assert.Contains(messages, m => m.StartsWith($"Storage sqlite (Data Source={Path.Combine(server.DataDirectory, "homeserver.db")})"));
    }

    [Theory]
    [InlineData("--Storage:Kind=postgres", "Storage:ConnectionString is required when Storage:Kind is postgres.")]
    [InlineData("--Storage:Kind=mysql", "Failed to convert configuration value 'mysql' at 'Storage:Kind'")]
    [InlineData("--Registration:Mode=sometimes", "Failed to convert configuration value 'sometimes' at 'Registration:Mode'")]
    [InlineData("--Registration:Mode=token", "Registration:Mode is token but Registration:Tokens is empty")]
    [InlineData("--ServerName=not a name", "ServerName 'not a name' is not a valid Matrix server name")]
    [InlineData("--ServerName=example.org:70000", "ServerName 'example.org:70000' is not a valid Matrix server name")]
    [InlineData("--urls=localhost:8008", "Urls 'localhost:8008' cannot be parsed")]
    [InlineData("--urls=ftp://localhost:8008", "Listen URL 'ftp://localhost:8008' must use http or https")]
    [InlineData("--ShutdownTimeout=30", "ShutdownTimeout must be more than zero and at most 01:00:00")]
    [InlineData("--PublicBaseUrl=matrix.example.org", "PublicBaseUrl must be an absolute http or https URL")]
    [InlineData("--MaxRequestBodyBytes=0", "MaxRequestBodyBytes must be greater than zero")]
    [InlineData("--Tokens:AccessTokenLifetime=00:00:00", "Tokens:AccessTokenLifetime and Tokens:OpenIdTokenLifetime must be at least")]
    [InlineData("--Voip:TurnUris:0=turn:turn.example.org", "Voip: invalid TURN settings")]
    [InlineData("--Voip:TurnUris:0=https://turn.example.org", "Voip: invalid TURN settings")]
    [InlineData("--Support:Contacts:0:Role=m.role.admin", "Support: each contact needs a Role")]
    [InlineData("--Support:SupportPage=not a url", "Support: each contact needs a Role")]
    [InlineData("--Federation:KeyResponseValidity=00:59:59", "Federation:KeyResponseValidity must be between 1 hour and 7 days")]
    [InlineData("--Federation:KeyResponseValidity=7.00:00:01", "Federation:KeyResponseValidity must be between 1 hour and 7 days")]
    public void Invalid_configuration_fails_with_a_message_naming_the_key(string argument, string expectedStart)
    {
        var failures = BuiltServer.ConfigurationFailures(argument);

        Assert.Contains(failures, failure => failure.StartsWith(expectedStart, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_invalid_option_is_reported_at_once()
    {
        var failures = BuiltServer.ConfigurationFailures(
            "--ServerName=not a name",
            "--Storage:Kind=postgres",
            "--Registration:Mode=token",
            "--PublicBaseUrl=https://matrix.example.org",
            "--MaxRequestBodyBytes=0");

        Assert.Equal(4, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("ServerName"));
        Assert.Contains(failures, f => f.StartsWith("Storage:ConnectionString"));
        Assert.Contains(failures, f => f.StartsWith("Registration:Mode"));
        Assert.Contains(failures, f => f.StartsWith("MaxRequestBodyBytes"));
    }

    [Fact]
    public void Secrets_are_not_echoed_in_failures()
    {
        var failures = BuiltServer.ConfigurationFailures(
            "--Storage:Kind=postgres", "--Storage:ConnectionString=Password=hunter2;broken", "--Registration:Tokens:0=bad token hunter3");

        Assert.Equal(2, failures.Count);
        Assert.DoesNotContain(failures, f => f.Contains("hunter"));
    }
}
