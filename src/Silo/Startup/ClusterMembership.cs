using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Postgres;
using HomeServer.Silo.Configuration;
using HomeServer.Storage.Postgres;
using Microsoft.Extensions.Options;
using Npgsql;

namespace HomeServer.Silo.Startup;

/// <summary>The membership table this process uses, per <c>Cluster:Membership</c>; owns its database connections.</summary>
internal sealed class ClusterMembership : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _dataSource;

    public ClusterMembership(IOptions<ClusterOptions> options)
    {
        var cluster = options.Value;
        if (cluster.Membership == MembershipKind.Postgres)
        {
            _dataSource = NpgsqlDataSource.Create(PostgresConnectionSettings.WithFailFastDefaults(cluster.ConnectionString!));
            Table = new PostgresMembershipTable(_dataSource, cluster.ClusterId);
        }
        else
        {
            Table = new InMemoryMembershipTable();
        }
    }

    public IMembershipTable Table { get; }

    public ValueTask DisposeAsync() => _dataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
}
