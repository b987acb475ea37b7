using Microsoft.Extensions.DependencyInjection;
using HomeServer.Storage;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation;
using System.Net;
using System.Net.Sockets;
using HomeServer.Gateway.Federation;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Two servers of this project, A and B, each with its own server name (<c>127.0.0.1:port</c>) and database, serving
/// HTTPS with a certificate of a throwaway CA that both trust through <c>Federation:TrustedCaCertificates</c>, and
/// allowed to reach loopback. B also serves a test endpoint, <c>POST /_matrix/federation/unstable/test/echo</c>, that
/// requires federation authentication and answers with the origin, to check signatures over request bodies, and
/// reads federation request bodies of at most <see cref="MaxBodyBytesOfB"/>.
/// </summary>
public abstract class FederationPair : IAsyncLifetime
{
    public const string EchoPath = "/_matrix/federation/unstable/test/echo";
    public const int MaxBodyBytesOfB = 64 * 1024;

    private readonly List<StoreBackend> _backends = [];
    private readonly List<RunningServer> _servers = [];

    public TestCertificateAuthority Authority { get; } = TestCertificateAuthority.Create();

    public RunningServer A { get; private set; } = null!;

    public RunningServer B { get; private set; } = null!;

    /// <summary>A's client for signed requests to B, as a remote homeserver would send them.</summary>
    public FederationClient FederationOfA => A.App.Services.GetRequiredService<FederationClient>();

    public ServerSigningKey KeyOfA => KeyOf(A);

    public ServerSigningKey KeyOfB => KeyOf(B);

    public IHomeServerStore StoreOfB => B.App.Services.GetRequiredService<IHomeServerStore>();

    /// <summary>A fresh user id of server A.</summary>
    public string RemoteUser(string name) => $"@{name}-{Guid.NewGuid().ToString("N")[..8]}:{NameOfA}";

    private static ServerSigningKey KeyOf(RunningServer server) => server.App.Services.GetRequiredService<LocalSigningKey>().Current;

    public string NameOfA { get; private set; } = "";

    public string NameOfB { get; private set; } = "";

    protected abstract Task<StoreBackend> CreateBackendAsync();

    public virtual async Task InitializeAsync()
    {
        (A, NameOfA) = await StartAsync(allowPrivateAddresses: true);
        (B, NameOfB) = await StartAsync(allowPrivateAddresses: true, app =>
            app.MapPost(EchoPath, (HttpContext context) => Results.Text(context.FederationOrigin())).RequireFederationAuthentication(),
            arguments: $"--Federation:MaxRequestBodyBytes={MaxBodyBytesOfB}");
    }

    /// <summary>Starts one more server of the same network (stopped with the others).</summary>
    /// <param name="trustTestCa">False: the server trusts only the system's CAs, so it cannot verify the others.</param>
    public async Task<(RunningServer Server, string Name)> StartAsync(
        bool allowPrivateAddresses, Action<WebApplication>? configure = null, bool trustTestCa = true, params string[] arguments)
    {
        var backend = await CreateBackendAsync();
        _backends.Add(backend);
        var port = FreePort();
        var name = $"127.0.0.1:{port}";
        var server = await RunningServer.StartAsync(
        [
            .. backend.ServerArguments,
            $"--urls=https://127.0.0.1:{port}",
            $"--ServerName={name}",
            $"--Kestrel:Certificates:Default:Path={Authority.ServerCertificatePath}",
            $"--Kestrel:Certificates:Default:KeyPath={Authority.ServerKeyPath}",
            .. (trustTestCa ? [$"--Federation:TrustedCaCertificates:0={Authority.CaCertificatePath}"] : Array.Empty<string>()),
            $"--Federation:AllowPrivateAddresses={allowPrivateAddresses}",
            .. ArgumentsOfEach,
            .. arguments,
        ], app =>
        {
            ConfigureEach(app);
            configure?.Invoke(app);
        });
        _servers.Add(server);
        return (server, name);
    }

    /// <summary>Configuration every server of the network starts with.</summary>
    protected virtual IEnumerable<string> ArgumentsOfEach => [];

    /// <summary>What every server of the network gets ahead of its own endpoints.</summary>
    protected virtual void ConfigureEach(WebApplication app)
    {
    }

    /// <summary>An HTTP client for the tests' own requests, trusting the test CA.</summary>
    public HttpClient ClientFor(RunningServer server) => new(TrustingHandler()) { BaseAddress = server.Client.BaseAddress };

    /// <summary>An HTTP handler that trusts the test CA.</summary>
    public HttpClientHandler TrustingHandler()
    {
        var roots = FederationHttpHandler.LoadCertificates([Authority.CaCertificatePath]);
        return new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => FederationHttpHandler.IsTrusted(certificate, chain, errors, roots),
        };
    }

    public async Task DisposeAsync()
    {
        foreach (var server in _servers) await server.DisposeAsync();
        foreach (var backend in _backends) await backend.DisposeAsync();
        Authority.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed class SqliteFederationPair : FederationPair
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresFederationPair : FederationPair
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>One server of the test network (SQLite), for tests whose other servers are started otherwise.</summary>
public sealed class LoneFederatedServer : FederationPair
{
    public RunningServer Server { get; private set; } = null!;

    public string Name { get; private set; } = "";

    public override async Task InitializeAsync() => (Server, Name) = await StartAsync(allowPrivateAddresses: true);

    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}
