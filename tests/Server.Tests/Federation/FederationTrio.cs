using System.Collections.Concurrent;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Three servers of this project: A and B of <see cref="FederationPair"/> and C, each behind the same
/// <see cref="NetworkPartition"/>, so a test can cut servers off from each other and heal the network.
/// </summary>
public abstract class FederationTrio : FederationPair
{
    public NetworkPartition Partition { get; } = new();

    public RunningServer C { get; private set; } = null!;

    public string NameOfC { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        (C, NameOfC) = await StartAsync(allowPrivateAddresses: true);
    }

    /// <summary>Quick retries, so that servers find each other again soon after the network heals.</summary>
    protected override IEnumerable<string> ArgumentsOfEach =>
        ["--Federation:Outbound:InitialRetryDelay=00:00:00.5", "--Federation:Outbound:MaxRetryDelay=00:00:02"];

    protected override void ConfigureEach(WebApplication app) => Partition.Install(app);
}

public sealed class SqliteFederationTrio : FederationTrio
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresFederationTrio : FederationTrio
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>
/// A network partition between servers of a test network: a server drops (closes the connection of) every federation
/// request signed by a server it is cut off from, as an unreachable network would fail it. Requests without an
/// <c>X-Matrix</c> origin (key fetches) pass: a real partition would stop them too, but keys are cached by then.
/// </summary>
public sealed class NetworkPartition
{
    private readonly ConcurrentDictionary<(string From, string To), bool> _cuts = new();
    private int _dropped;

    /// <summary>Cuts <paramref name="server"/> off from each of <paramref name="others"/>, both ways.</summary>
    public void Cut(string server, params string[] others)
    {
        foreach (var other in others)
        {
            _cuts[(server, other)] = true;
            _cuts[(other, server)] = true;
        }
    }

    public void Heal() => _cuts.Clear();

    /// <summary>How many federation requests were dropped so far.</summary>
    public int Dropped => _dropped;

    public void Install(WebApplication app) => app.Use(async (context, next) =>
    {
        if (!_cuts.IsEmpty && context.Request.Path.StartsWithSegments("/_matrix/federation")
            && XMatrixAuthorization.TryParse(context.Request.Headers.Authorization.ToString(), out var authorization)
            && _cuts.ContainsKey((authorization.Origin, context.Request.Host.Value!)))
        {
            Interlocked.Increment(ref _dropped);
            context.Abort();
            return;
        }
        await next(context);
    });
}
