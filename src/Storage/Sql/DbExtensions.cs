using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal static class DbExtensions
{
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>No command timeout: for migrations and their lock, which may rightly take long, unlike requests.</summary>
    public static DbCommand WithoutTimeout(this DbCommand command)
    {
        command.CommandTimeout = 0;
        return command;
    }

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    public static async Task<int> ExecuteAsync(this DbCommand command, CancellationToken cancellationToken)
    {
        await using (command)
        {
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The first column of the first row, or null when there is no row or it is NULL.</summary>
    public static async Task<T?> ScalarAsync<T>(this DbCommand command, CancellationToken cancellationToken)
    {
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken) || await reader.IsDBNullAsync(0, cancellationToken))
            {
                return default;
            }
            return await reader.GetFieldValueAsync<T>(0, cancellationToken);
        }
    }

    public static async Task<List<T>> ListAsync<T>(
        this DbCommand command, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        await using (command)
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(map(reader));
            }
            return rows;
        }
    }

    public static async Task<T?> SingleOrDefaultAsync<T>(
        this DbCommand command, Func<DbDataReader, T> map, CancellationToken cancellationToken)
        where T : class
    {
        var rows = await command.ListAsync(map, cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    public static string? GetNullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? GetNullableInt64(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static byte[] GetBytes(this DbDataReader reader, int ordinal) => reader.GetFieldValue<byte[]>(ordinal);
}
