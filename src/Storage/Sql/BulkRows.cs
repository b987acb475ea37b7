using System.Data.Common;
using System.Text;

namespace HomeServer.Storage.Sql;

/// <summary>The SQL type of a <see cref="BulkRows"/> column, which PostgreSQL needs to bind the column as one array.</summary>
internal enum BulkColumnType
{
    Text,
    BigInt,
    Boolean,
    Bytes,
}

internal sealed record BulkColumn(string Name, BulkColumnType Type, Func<int, object?> ValueAt);

/// <summary>
/// Many rows for one table, given column by column, inserted by <see cref="SqlDatabase.InsertAsync"/>: on PostgreSQL
/// one statement whose text does not depend on the row count (one array per column), elsewhere multi-row VALUES lists.
/// </summary>
internal sealed class BulkRows(string table, int count)
{
    // Rows per VALUES list: one round trip per chunk, well under both backends' parameter limits.
    private const int RowsPerValuesList = 200;

    private readonly List<BulkColumn> _columns = [];

    public string Table => table;

    public int Count => count;

    public IReadOnlyList<BulkColumn> Columns => _columns;

    public BulkRows Text(string column, Func<int, string?> valueAt) => Add(column, BulkColumnType.Text, i => valueAt(i));

    public BulkRows BigInt(string column, Func<int, long> valueAt) => Add(column, BulkColumnType.BigInt, i => valueAt(i));

    public BulkRows Boolean(string column, Func<int, bool> valueAt) => Add(column, BulkColumnType.Boolean, i => valueAt(i));

    public BulkRows Bytes(string column, Func<int, byte[]> valueAt) => Add(column, BulkColumnType.Bytes, i => valueAt(i));

    private BulkRows Add(string column, BulkColumnType type, Func<int, object?> valueAt)
    {
        _columns.Add(new BulkColumn(column, type, valueAt));
        return this;
    }

    public string ColumnList => string.Join(", ", _columns.Select(c => c.Name));

    /// <summary>The rows as INSERT commands with VALUES lists of at most <see cref="RowsPerValuesList"/> rows each.</summary>
    public IEnumerable<DbCommand> AsValuesLists(DbConnection connection, DbTransaction transaction)
    {
        for (var start = 0; start < count; start += RowsPerValuesList)
        {
            var end = Math.Min(start + RowsPerValuesList, count);
            var command = connection.Command("", transaction);
            var sql = new StringBuilder($"INSERT INTO {table} ({ColumnList}) VALUES ");
            for (var row = start; row < end; row++)
            {
                sql.Append(row == start ? "(" : ", (");
                for (var c = 0; c < _columns.Count; c++)
                {
                    var parameter = $"@c{c}r{row}";
                    sql.Append(c == 0 ? parameter : ", " + parameter);
                    command.With(parameter, _columns[c].ValueAt(row));
                }
                sql.Append(')');
            }
            command.CommandText = sql.ToString();
            yield return command;
        }
    }
}
