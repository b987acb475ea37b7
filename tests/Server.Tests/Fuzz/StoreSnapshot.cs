using Microsoft.Data.Sqlite;

namespace HomeServer.Server.Tests.Fuzz;

/// <summary>
/// Row count and a content hash of every table of a SQLite store, read on a read-only connection of its own. It knows
/// no table of the schema but <see cref="AbuseCounters"/>, so new tables and columns are covered by themselves; two equal
/// snapshots mean nothing was written in between.
/// </summary>
public sealed class StoreSnapshot : IDisposable
{
    /// <summary>
    /// Tables a refused request is meant to write. <c>rate_limit_buckets</c> keeps the failed-login buckets of accounts
    /// across restarts: a login or password check refused for a wrong password takes a token there. Counting such abuse
    /// is the point of that table, so the snapshot leaves it out.
    /// </summary>
    public static readonly IReadOnlySet<string> AbuseCounters = new HashSet<string>(StringComparer.Ordinal) { "rate_limit_buckets" };

    private readonly SqliteConnection _connection;

    public StoreSnapshot(string databasePath)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        _connection.Open();
    }

    /// <summary>Table name → (rows, hash of every value in row order).</summary>
    public IReadOnlyDictionary<string, (long Rows, int Hash)> Take()
    {
        var tables = new List<string>();
        using (var list = _connection.CreateCommand())
        {
            // Full-text tables count through their virtual table; their shadow tables (some WITHOUT ROWID) are left out.
            list.CommandText = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual') " +
                               "AND name NOT LIKE 'sqlite_%' ORDER BY name";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                var name = reader.GetString(0);
                if (!AbuseCounters.Contains(name)) tables.Add(name);
            }
        }

        var snapshot = new SortedDictionary<string, (long, int)>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            using var select = _connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\" ORDER BY rowid";
            using var reader = select.ExecuteReader();
            long rows = 0;
            var hash = new HashCode();
            while (reader.Read())
            {
                rows++;
                for (var column = 0; column < reader.FieldCount; column++)
                {
                    var value = reader.GetValue(column);
                    if (value is byte[] bytes) hash.AddBytes(bytes);
                    else hash.Add(value);
                }
            }
            snapshot[table] = (rows, hash.ToHashCode());
        }
        return snapshot;
    }

    /// <summary>The tables whose rows differ between two snapshots.</summary>
    public static IReadOnlyList<string> Changed(IReadOnlyDictionary<string, (long Rows, int Hash)> before, IReadOnlyDictionary<string, (long Rows, int Hash)> after) =>
        before.Keys.Union(after.Keys)
            .Where(table => !before.TryGetValue(table, out var b) || !after.TryGetValue(table, out var a) || a != b)
            .ToArray();

    public void Dispose() => _connection.Dispose();
}
