using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>The column list and mapping of <see cref="StoredEvent"/>, for queries over <c>events e</c>.</summary>
internal static class EventRows
{
    public const string Columns =
        "e.room_id, e.room_position, e.global_position, e.event_id, e.event_type, e.state_key, e.sender, " +
        "e.origin_server_ts, e.membership, e.redacted, e.json";

    public static StoredEvent Read(DbDataReader reader) => Read(reader, 0);

    /// <param name="first">The ordinal of the first of the <see cref="Columns"/> in the row.</param>
    public static StoredEvent Read(DbDataReader reader, int first) => new(
        reader.GetString(first),
        reader.GetInt64(first + 1),
        reader.GetInt64(first + 2),
        reader.GetString(first + 3),
        reader.GetString(first + 4),
        reader.GetNullableString(first + 5),
        reader.GetString(first + 6),
        reader.GetInt64(first + 7),
        reader.GetNullableString(first + 8),
        reader.GetBoolean(first + 9),
        reader.GetBytes(first + 10));
}
