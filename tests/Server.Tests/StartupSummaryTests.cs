using HomeServer.Silo.Configuration;
using HomeServer.Silo.Startup;

namespace HomeServer.Server.Tests;

public sealed class StartupSummaryTests
{
    [Fact]
    public void Postgres_is_described_by_location_only()
    {
        var description = StartupSummaryLogger.DescribeStorage(new StorageOptions
        {
            Kind = StorageKind.Postgres,
            ConnectionString = "Host=db.internal;Port=5433;Database=matrix;Username=synapse;Password=hunter2",
        });

        Assert.Equal("postgres (Host=db.internal, Port=5433, Database=matrix)", description);
    }

    [Fact]
    public void Sqlite_is_described_by_its_file()
    {
        var description = StartupSummaryLogger.DescribeStorage(new StorageOptions
        {
            ConnectionString = StorageOptions.DefaultSqliteConnectionString("./data"),
        });

        Assert.Equal("sqlite (Data Source=./data/homeserver.db)", description);
    }
}
