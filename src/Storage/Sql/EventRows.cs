using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>The column list and mapping of <see cref="StoredEvent"/>, for queries over <c>events e</c>.</summary>
internal static class EventRows
{
    public const string Columns =
        "e.room_id, e.room_position, e.global_position, e.event_id, e.event_type, e.state_key, e.sender, " +
        "e.origin_server_ts, e.membership, e.redacted, e.json";

    public static StoredEvent Read(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetInt64(1),
        reader.GetInt64(2),
        reader.GetString(3),
        reader.GetString(4),
        reader.GetNullableString(5),
        reader.GetString(6),
        reader.GetInt64(7),
        reader.GetNullableString(8),
        reader.GetBoolean(9),
        reader.GetBytes(10));
}
