using System.Text;
using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlPresenceStore(SqlDatabase db) : IPresenceStore
{
    private const string Columns = "p.user_id, p.presence, p.status_msg, p.last_active_ts, p.stream_position";

    /// <summary>The users joined to a room @user is joined to (current state, so membership needs no event JSON).</summary>
    private const string PeersOfUser =
        "SELECT other.state_key FROM current_state mine " +
        "JOIN current_state other ON other.room_id = mine.room_id " +
        "WHERE mine.event_type = 'm.room.member' AND mine.state_key = @user AND mine.membership = 'join' " +
        "AND other.event_type = 'm.room.member' AND other.membership = 'join'";

    private static readonly string[] Presences = ["online", "unavailable", "offline"];

    public async Task<long> SetPresenceAsync(NewPresence presence, CancellationToken cancellationToken) =>
        (await SetPresencesAsync([presence], cancellationToken))[0];

    public async Task<IReadOnlyList<long>> SetPresencesAsync(IReadOnlyList<NewPresence> presences, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presences);
        ArgumentOutOfRangeException.ThrowIfZero(presences.Count, nameof(presences));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(presences.Count, StoreLimits.MaxQueryLimit, nameof(presences));
        foreach (var presence in presences) Validate(presence);
        if (presences.Select(p => p.UserId).Distinct(StringComparer.Ordinal).Count() != presences.Count)
            throw new ArgumentException("each user at most once", nameof(presences));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var last = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.Presence, presences.Count, ct);
            var positions = Enumerable.Range(0, presences.Count).Select(i => last - presences.Count + 1 + i).ToArray();
            for (var start = 0; start < presences.Count; start += RowsPerUpsert)
            {
                var end = Math.Min(start + RowsPerUpsert, presences.Count);
                var command = connection.Command("", transaction);
                var sql = new StringBuilder("INSERT INTO presence (user_id, presence, status_msg, last_active_ts, stream_position) VALUES ");
                for (var i = start; i < end; i++)
                {
                    sql.Append(i == start ? "" : ", ").Append($"(@u{i}, @p{i}, @s{i}, @a{i}, @n{i})");
                    command.With($"@u{i}", presences[i].UserId)
                        .With($"@p{i}", presences[i].Presence)
                        .With($"@s{i}", presences[i].StatusMessage)
                        .With($"@a{i}", presences[i].LastActiveTs)
                        .With($"@n{i}", positions[i]);
                }
                sql.Append(" ON CONFLICT (user_id) DO UPDATE SET presence = excluded.presence, status_msg = excluded.status_msg, " +
                    "last_active_ts = excluded.last_active_ts, stream_position = excluded.stream_position");
                command.CommandText = sql.ToString();
                await command.ExecuteAsync(ct);
            }
            return (IReadOnlyList<long>)positions;
        }, cancellationToken);
    }

    private const int RowsPerUpsert = 200;

    private static void Validate(NewPresence presence)
    {
        ArgumentNullException.ThrowIfNull(presence);
        Guard.Identifier(presence.UserId, nameof(presence.UserId));
        if (!Presences.Contains(presence.Presence))
        {
            throw new ArgumentException("must be online, unavailable or offline", nameof(presence.Presence));
        }
        Guard.OptionalText(presence.StatusMessage, StoreLimits.MaxStatusMessageBytes, nameof(presence.StatusMessage));
        Guard.Position(presence.LastActiveTs, nameof(presence.LastActiveTs));
    }

    public async Task<StoredPresence?> GetPresenceAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command($"SELECT {Columns} FROM presence p WHERE p.user_id = @user")
                .With("@user", userId)
                .SingleOrDefaultAsync(ReadPresence, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredPresence>> GetPresenceAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(userIds, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText = $"SELECT {Columns} FROM presence p WHERE {db.InSet(command, "p.user_id", "@users", userIds)}";
            return await command.ListAsync(ReadPresence, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredPresence>> GetPeerPresenceChangesAsync(
        string userId, long sincePosition, long upToPosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Position(sincePosition, nameof(sincePosition));
        Guard.Position(upToPosition, nameof(upToPosition));
        if (upToPosition <= sincePosition) return [];
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {Columns} FROM presence p " +
                    "WHERE p.stream_position > @since AND p.stream_position <= @upto " +
                    $"AND (p.user_id = @user OR p.user_id IN ({PeersOfUser})) ORDER BY p.stream_position")
                .With("@user", userId)
                .With("@since", sincePosition)
                .With("@upto", upToPosition)
                .ListAsync(ReadPresence, ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredPresence>> GetPresenceOfRoomMembersAsync(
        IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(roomIds, nameof(roomIds));
        if (roomIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                $"SELECT {Columns} FROM presence p WHERE p.user_id IN (SELECT state_key FROM current_state " +
                $"WHERE {db.InSet(command, "room_id", "@rooms", roomIds)} AND event_type = 'm.room.member' AND membership = 'join')";
            return await command.ListAsync(ReadPresence, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetRoomPeersAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command($"SELECT DISTINCT peers.state_key FROM ({PeersOfUser}) peers ORDER BY peers.state_key")
                .With("@user", userId)
                .ListAsync(reader => reader.GetString(0), ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetRoomPeersOfUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(userIds, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                "SELECT DISTINCT other.state_key FROM current_state mine " +
                "JOIN current_state other ON other.room_id = mine.room_id " +
                $"WHERE mine.event_type = 'm.room.member' AND {db.InSet(command, "mine.state_key", "@users", userIds)} AND mine.membership = 'join' " +
                "AND other.event_type = 'm.room.member' AND other.membership = 'join'";
            return await command.ListAsync(reader => reader.GetString(0), ct);
        }, cancellationToken);
    }

    public Task<long> GetMaxStreamPositionAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(db, StreamPositions.Presence, cancellationToken);

    private static StoredPresence ReadPresence(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetNullableString(2),
        reader.GetInt64(3),
        reader.GetInt64(4));
}
