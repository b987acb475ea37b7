using System.Data.Common;
using System.Text.Json;
using HomeServer.Storage.Sql;
using Microsoft.Data.Sqlite;

namespace HomeServer.Storage.Sqlite;

/// <summary>
/// One SQLite file in WAL mode: a single long-lived writer connection, used by one write transaction at
/// a time (so writers queue here instead of failing with SQLITE_BUSY), and pooled read-only connections
/// that read concurrently with the writer.
/// </summary>
internal sealed class SqliteDatabase : SqlDatabase
{
    private const int BusyTimeoutSeconds = 30;

    private static readonly IReadOnlyList<MigrationScript> Scripts =
        MigrationScript.LoadEmbedded("HomeServer.Storage.Sqlite.Migrations.");

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SqliteConnection _writer;
    private readonly string _readConnectionString;
    private bool _disposed;

    private SqliteDatabase(SqliteConnection writer, string readConnectionString)
    {
        _writer = writer;
        _readConnectionString = readConnectionString;
    }

    public static async Task<SqliteDatabase> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var path = builder.DataSource;
        if (string.IsNullOrWhiteSpace(path) || path == ":memory:" || builder.Mode == SqliteOpenMode.Memory)
        {
            throw new ArgumentException("The SQLite store needs a database file (Data Source=path).", nameof(connectionString));
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        builder.Mode = SqliteOpenMode.ReadWriteCreate;
        builder.Pooling = false;
        builder.DefaultTimeout = BusyTimeoutSeconds;
        builder.ForeignKeys = true;
        var writer = new SqliteConnection(builder.ToString());
        await writer.OpenAsync(cancellationToken);
        try
        {
            // WAL lets readers run beside the writer; FULL syncs the WAL on every commit, so an
            // acknowledged append survives a power cut, not only a process crash.
            await writer.Command(
                    $"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000};")
                .ExecuteAsync(cancellationToken);
        }
        catch
        {
            await writer.DisposeAsync();
            throw;
        }

        builder.Mode = SqliteOpenMode.ReadOnly;
        builder.Pooling = true;
        builder.ForeignKeys = null;
        return new SqliteDatabase(writer, builder.ToString());
    }

    public override async Task<T> ReadAsync<T>(Func<DbConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var connection = new SqliteConnection(_readConnectionString);
        await connection.OpenAsync(cancellationToken);
        return await work(connection, cancellationToken);
    }

    public override async Task<T> WriteAsync<T>(
        Func<DbConnection, DbTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // BEGIN IMMEDIATE: takes the file's write lock now, so another process writing the same file
            // makes us wait (busy timeout) at the start rather than fail mid-transaction.
            await using var transaction = (SqliteTransaction)await _writer.BeginTransactionAsync(cancellationToken);
            try
            {
                var result = await work(_writer, transaction, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch
            {
                await transaction.RollbackAsync(CancellationToken.None);
                throw;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override string InSet(DbCommand command, string column, string parameterName, IReadOnlyCollection<string> values)
    {
        command.With(parameterName, JsonSerializer.Serialize(values));
        return $"{column} IN (SELECT value FROM json_each({parameterName}))";
    }

    public override string LockRowsSkipLocked => "";

    public override FullTextSql FullText { get; } = new FullTextSql.Sqlite();

    public override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 or 1555 };

    public override bool IsForeignKeyViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 787 };

    public override string? MigrationLockSql => null;

    public override IReadOnlyList<MigrationScript> Migrations => Scripts;

    public override async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            await _writer.DisposeAsync();
            // Pooled readers would otherwise keep the file open after the store is gone.
            using var reader = new SqliteConnection(_readConnectionString);
            SqliteConnection.ClearPool(reader);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
