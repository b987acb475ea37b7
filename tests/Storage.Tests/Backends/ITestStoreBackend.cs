using System.Data.Common;

namespace HomeServer.Storage.Tests.Backends;

/// <summary>One fresh database of one backend, which any number of store instances can be opened on.</summary>
public interface ITestStoreBackend : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Creates the empty database (a file, or a PostgreSQL database with a unique name).</summary>
    Task InitializeAsync();

    /// <summary>Opens a new, independent store instance on the database (migrating it first).</summary>
    Task<IHomeServerStore> OpenStoreAsync(CancellationToken cancellationToken);

    Task<MigrationResult> MigrateAsync(CancellationToken cancellationToken);

    /// <summary>A plain connection for looking at rows the store API does not expose.</summary>
    Task<DbConnection> OpenRawConnectionAsync(CancellationToken cancellationToken);
}
