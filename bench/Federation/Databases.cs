using Microsoft.Data.Sqlite;

namespace HomeServer.FederationBench;

/// <summary>Read-only looks into a server's SQLite database while it runs (WAL lets a reader in beside the writer).</summary>
internal static class Databases
{
    /// <summary>The sender's acknowledged position for the destination (docs/adr/0035): everything owed up to it was answered.</summary>
    public static long AckedPosition(string databasePath, string destination) =>
        Scalar(databasePath, "SELECT COALESCE((SELECT acked_position FROM federation_destinations WHERE destination = $d), 0)", ("$d", destination));

    public static long MaxGlobalPosition(string databasePath) =>
        Scalar(databasePath, "SELECT COALESCE(MAX(global_position), 0) FROM events");

    public static long EventCount(string databasePath) => Scalar(databasePath, "SELECT COUNT(*) FROM events");

    /// <summary>Events of the destination's open windows above its acknowledged position: what it is owed.</summary>
    public static long OwedEvents(string databasePath, string destination) =>
        Scalar(databasePath,
            "SELECT COUNT(*) FROM federation_destination_rooms w JOIN federation_destinations d ON d.destination = w.destination " +
            "JOIN events e ON e.room_id = w.room_id AND e.global_position > d.acked_position AND e.global_position > w.since_position " +
            "AND (w.until_position IS NULL OR e.global_position <= w.until_position) WHERE w.destination = $d", ("$d", destination));

    private static long Scalar(string databasePath, string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 60;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return Convert.ToInt64(command.ExecuteScalar());
    }
}
