using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlKeyStore(SqlDatabase db) : IKeyStore
{
    /// <summary>Keys are small; this bounds a whole device_keys object or cross-signing key with its signatures.</summary>
    private const int MaxKeyJsonBytes = StoreLimits.MaxContentJsonBytes;

    /// <summary>The users joined to a room @user is joined to (current state, so membership needs no event JSON).</summary>
    private const string PeersOfUser =
        "SELECT other.state_key FROM current_state mine " +
        "JOIN current_state other ON other.room_id = mine.room_id " +
        "WHERE mine.event_type = 'm.room.member' AND mine.state_key = @user AND mine.membership = 'join' " +
        "AND other.event_type = 'm.room.member' AND other.membership = 'join'";

    public async Task<KeyUploadResult> UploadKeysAsync(KeyUpload upload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(upload);
        Guard.Identifier(upload.UserId, nameof(upload.UserId));
        Guard.Identifier(upload.DeviceId, nameof(upload.DeviceId));
        Guard.OptionalText(upload.DeviceKeysJson, MaxKeyJsonBytes, nameof(upload.DeviceKeysJson));
        foreach (var key in upload.OneTimeKeys.Concat(upload.FallbackKeys)) CheckKey(key);
        if (upload.FallbackKeys.GroupBy(k => k.Algorithm).Any(g => g.Count() > 1))
        {
            throw new ArgumentException("at most one fallback key per algorithm", nameof(upload.FallbackKeys));
        }
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            long? position = null;
            if (upload.DeviceKeysJson is { } deviceKeys)
            {
                var stored = await connection.Command(
                        "SELECT key_json FROM device_keys WHERE user_id = @user AND device_id = @device", transaction)
                    .With("@user", upload.UserId)
                    .With("@device", upload.DeviceId)
                    .ScalarAsync<string>(ct);
                if (stored != deviceKeys)
                {
                    await connection.Command(
                            "INSERT INTO device_keys (user_id, device_id, key_json) VALUES (@user, @device, @json) " +
                            "ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json",
                            transaction)
                        .With("@user", upload.UserId)
                        .With("@device", upload.DeviceId)
                        .With("@json", deviceKeys)
                        .ExecuteAsync(ct);
                    position = await AppendChangeAsync(connection, transaction, upload.UserId, ct);
                }
            }
            foreach (var key in upload.OneTimeKeys)
            {
                await connection.Command(
                        "INSERT INTO one_time_keys (user_id, device_id, algorithm, key_id, key_json) " +
                        "VALUES (@user, @device, @algorithm, @key, @json) ON CONFLICT DO NOTHING",
                        transaction)
                    .With("@user", upload.UserId)
                    .With("@device", upload.DeviceId)
                    .With("@algorithm", key.Algorithm)
                    .With("@key", key.KeyId)
                    .With("@json", key.Json)
                    .ExecuteAsync(ct);
            }
            foreach (var key in upload.FallbackKeys)
            {
                // The same key uploaded again (clients resend it) must not make a used key look fresh.
                await connection.Command(
                        "INSERT INTO fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) " +
                        "VALUES (@user, @device, @algorithm, @key, @json, @unused) " +
                        "ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, " +
                        "key_json = excluded.key_json, used = CASE WHEN fallback_keys.key_id = excluded.key_id " +
                        "AND fallback_keys.key_json = excluded.key_json THEN fallback_keys.used ELSE excluded.used END",
                        transaction)
                    .With("@user", upload.UserId)
                    .With("@device", upload.DeviceId)
                    .With("@algorithm", key.Algorithm)
                    .With("@key", key.KeyId)
                    .With("@json", key.Json)
                    .With("@unused", false)
                    .ExecuteAsync(ct);
            }
            var counts = await CountAsync(connection, transaction, upload.UserId, upload.DeviceId, ct);
            return new KeyUploadResult(position, counts);
        }, cancellationToken);
    }

    public async Task<string?> GetDeviceKeysAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT key_json FROM device_keys WHERE user_id = @user AND device_id = @device")
                .With("@user", userId)
                .With("@device", deviceId)
                .ScalarAsync<string>(ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredDeviceKeys>> GetDeviceKeysAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(userIds, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText = $"SELECT user_id, device_id, key_json FROM device_keys WHERE {db.InSet(command, "user_id", "@users", userIds)}";
            return await command.ListAsync(r => new StoredDeviceKeys(r.GetString(0), r.GetString(1), r.GetString(2)), ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, string>> GetOneTimeKeysAsync(
        string userId, string deviceId, IReadOnlyCollection<string> keyIds, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        Guard.RoomIds(keyIds, nameof(keyIds));
        if (keyIds.Count == 0) return new Dictionary<string, string>();
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("").With("@user", userId).With("@device", deviceId);
            command.CommandText =
                "SELECT key_id, key_json FROM one_time_keys WHERE user_id = @user AND device_id = @device " +
                $"AND {db.InSet(command, "key_id", "@keys", keyIds)}";
            var rows = await command.ListAsync(r => (r.GetString(0), r.GetString(1)), ct);
            return (IReadOnlyDictionary<string, string>)rows.ToDictionary(r => r.Item1, r => r.Item2, StringComparer.Ordinal);
        }, cancellationToken);
    }

    public async Task<IReadOnlyDictionary<string, int>> CountOneTimeKeysAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.ReadAsync((connection, ct) => CountAsync(connection, null, userId, deviceId, ct), cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetUnusedFallbackKeyAlgorithmsAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT algorithm FROM fallback_keys WHERE user_id = @user AND device_id = @device AND used = @used ORDER BY algorithm")
                .With("@user", userId)
                .With("@device", deviceId)
                .With("@used", false)
                .ListAsync(r => r.GetString(0), ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<ClaimedKey>> ClaimKeysAsync(IReadOnlyList<KeyClaim> claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(claims);
        foreach (var claim in claims)
        {
            Guard.Identifier(claim.UserId, nameof(claim.UserId));
            Guard.Identifier(claim.DeviceId, nameof(claim.DeviceId));
            Guard.Identifier(claim.Algorithm, nameof(claim.Algorithm));
        }
        if (claims.Count == 0) return [];
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            var claimed = new List<ClaimedKey>();
            foreach (var claim in claims)
            {
                // One statement picks and deletes the lowest key: on PostgreSQL the row lock makes a concurrent claim
                // skip to the next key instead of deleting the same one; SQLite has one writer at a time.
                var oneTime = await connection.Command(
                        "DELETE FROM one_time_keys WHERE (user_id, device_id, algorithm, key_id) IN (" +
                        "SELECT user_id, device_id, algorithm, key_id FROM one_time_keys " +
                        "WHERE user_id = @user AND device_id = @device AND algorithm = @algorithm " +
                        $"ORDER BY key_id LIMIT 1 {db.LockRowsSkipLocked}) RETURNING key_id, key_json",
                        transaction)
                    .With("@user", claim.UserId)
                    .With("@device", claim.DeviceId)
                    .With("@algorithm", claim.Algorithm)
                    .ListAsync(r => (KeyId: r.GetString(0), Json: r.GetString(1)), ct);
                if (oneTime.Count > 0)
                {
                    claimed.Add(new ClaimedKey(claim.UserId, claim.DeviceId, oneTime[0].KeyId, oneTime[0].Json, IsFallback: false));
                    continue;
                }
                var fallback = await connection.Command(
                        "UPDATE fallback_keys SET used = @used " +
                        "WHERE user_id = @user AND device_id = @device AND algorithm = @algorithm RETURNING key_id, key_json",
                        transaction)
                    .With("@used", true)
                    .With("@user", claim.UserId)
                    .With("@device", claim.DeviceId)
                    .With("@algorithm", claim.Algorithm)
                    .ListAsync(r => (KeyId: r.GetString(0), Json: r.GetString(1)), ct);
                if (fallback.Count > 0)
                {
                    claimed.Add(new ClaimedKey(claim.UserId, claim.DeviceId, fallback[0].KeyId, fallback[0].Json, IsFallback: true));
                }
            }
            return (IReadOnlyList<ClaimedKey>)claimed;
        }, cancellationToken);
    }

    public async Task<long> SetCrossSigningKeysAsync(string userId, IReadOnlyList<NewCrossSigningKey> keys, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0) throw new ArgumentException("must not be empty", nameof(keys));
        foreach (var key in keys)
        {
            if (key.Type is not ("master" or "self_signing" or "user_signing"))
            {
                throw new ArgumentException("must be master, self_signing or user_signing", nameof(keys));
            }
            Guard.Identifier(key.PublicKey, nameof(key.PublicKey));
            Guard.Text(key.Json, MaxKeyJsonBytes, nameof(key.Json));
        }
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            foreach (var key in keys)
            {
                await connection.Command(
                        "INSERT INTO cross_signing_keys (user_id, key_type, public_key, key_json) VALUES (@user, @type, @public, @json) " +
                        "ON CONFLICT (user_id, key_type) DO UPDATE SET public_key = excluded.public_key, key_json = excluded.key_json",
                        transaction)
                    .With("@user", userId)
                    .With("@type", key.Type)
                    .With("@public", key.PublicKey)
                    .With("@json", key.Json)
                    .ExecuteAsync(ct);
            }
            return await AppendChangeAsync(connection, transaction, userId, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<StoredCrossSigningKey>> GetCrossSigningKeysAsync(
        IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(userIds, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                $"SELECT user_id, key_type, public_key, key_json FROM cross_signing_keys WHERE {db.InSet(command, "user_id", "@users", userIds)}";
            return await command.ListAsync(r => new StoredCrossSigningKey(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)), ct);
        }, cancellationToken);
    }

    public async Task<long> AddSignaturesAsync(IReadOnlyList<KeySignature> signatures, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        foreach (var signature in signatures)
        {
            Guard.Identifier(signature.TargetUserId, nameof(signature.TargetUserId));
            Guard.Identifier(signature.TargetKeyId, nameof(signature.TargetKeyId));
            Guard.Identifier(signature.SignerUserId, nameof(signature.SignerUserId));
            Guard.Identifier(signature.SignerKeyId, nameof(signature.SignerKeyId));
            Guard.Text(signature.Signature, StoreLimits.MaxIdentifierBytes, nameof(signature.Signature));
        }
        if (signatures.Count == 0) return 0;
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            foreach (var signature in signatures)
            {
                await connection.Command(
                        "INSERT INTO key_signatures (target_user_id, target_key_id, signer_user_id, signer_key_id, signature) " +
                        "VALUES (@target, @key, @signer, @signerKey, @signature) " +
                        "ON CONFLICT (target_user_id, target_key_id, signer_user_id, signer_key_id) DO UPDATE SET signature = excluded.signature",
                        transaction)
                    .With("@target", signature.TargetUserId)
                    .With("@key", signature.TargetKeyId)
                    .With("@signer", signature.SignerUserId)
                    .With("@signerKey", signature.SignerKeyId)
                    .With("@signature", signature.Signature)
                    .ExecuteAsync(ct);
            }
            long position = 0;
            foreach (var user in signatures.Select(s => s.TargetUserId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                position = await AppendChangeAsync(connection, transaction, user, ct);
                foreach (var signer in signatures.Where(s => s.TargetUserId == user && s.SignerUserId != user)
                             .Select(s => s.SignerUserId).Distinct(StringComparer.Ordinal))
                {
                    await connection.Command(
                            "INSERT INTO device_list_signer_changes (user_id, target_user_id, stream_position) VALUES (@signer, @target, @position) " +
                            "ON CONFLICT (user_id, target_user_id) DO UPDATE SET stream_position = excluded.stream_position",
                            transaction)
                        .With("@signer", signer)
                        .With("@target", user)
                        .With("@position", position)
                        .ExecuteAsync(ct);
                }
            }
            return position;
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<KeySignature>> GetSignaturesAsync(IReadOnlyCollection<string> targetUserIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(targetUserIds, nameof(targetUserIds));
        if (targetUserIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                "SELECT target_user_id, target_key_id, signer_user_id, signer_key_id, signature FROM key_signatures " +
                $"WHERE {db.InSet(command, "target_user_id", "@users", targetUserIds)}";
            return await command.ListAsync(
                r => new KeySignature(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4)), ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetDevicesWithKeysAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT device_id FROM device_keys WHERE user_id = @user " +
                    "UNION SELECT device_id FROM one_time_keys WHERE user_id = @user " +
                    "UNION SELECT device_id FROM fallback_keys WHERE user_id = @user")
                .With("@user", userId)
                .ListAsync(r => r.GetString(0), ct),
            cancellationToken);
    }

    public async Task<long> DeleteDeviceKeysAsync(string userId, string deviceId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Identifier(deviceId, nameof(deviceId));
        return await db.WriteAsync(async (connection, transaction, ct) =>
        {
            foreach (var sql in new[]
            {
                "DELETE FROM device_keys WHERE user_id = @user AND device_id = @device",
                "DELETE FROM one_time_keys WHERE user_id = @user AND device_id = @device",
                "DELETE FROM fallback_keys WHERE user_id = @user AND device_id = @device",
                "DELETE FROM key_signatures WHERE target_user_id = @user AND target_key_id = @device",
            })
            {
                await connection.Command(sql, transaction).With("@user", userId).With("@device", deviceId).ExecuteAsync(ct);
            }
            return await AppendChangeAsync(connection, transaction, userId, ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<DeviceListChange>> GetDeviceListChangesAsync(
        string userId, long sincePosition, long upToPosition, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Position(sincePosition, nameof(sincePosition));
        Guard.Position(upToPosition, nameof(upToPosition));
        if (upToPosition <= sincePosition) return [];
        var changes = await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT d.user_id, d.stream_position FROM device_list_changes d " +
                    "WHERE d.stream_position > @since AND d.stream_position <= @upto " +
                    $"AND (d.user_id = @user OR d.user_id IN ({PeersOfUser})) " +
                    "UNION SELECT s.target_user_id, s.stream_position FROM device_list_signer_changes s " +
                    "WHERE s.user_id = @user AND s.stream_position > @since AND s.stream_position <= @upto")
                .With("@user", userId)
                .With("@since", sincePosition)
                .With("@upto", upToPosition)
                .ListAsync(r => new DeviceListChange(r.GetString(0), r.GetInt64(1)), ct),
            cancellationToken);
        // A user both a peer and signed by the user comes once, at its latest position.
        return changes.GroupBy(c => c.UserId, StringComparer.Ordinal).Select(g => g.MaxBy(c => c.StreamPosition)!)
            .OrderBy(c => c.StreamPosition).ToList();
    }

    public async Task<IReadOnlyList<string>> GetUsersSharingARoomAsync(
        string userId, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.RoomIds(userIds, nameof(userIds));
        if (userIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("").With("@user", userId);
            command.CommandText =
                $"SELECT DISTINCT peers.state_key FROM ({PeersOfUser}) peers WHERE {db.InSet(command, "peers.state_key", "@users", userIds)} " +
                "ORDER BY peers.state_key";
            return await command.ListAsync(r => r.GetString(0), ct);
        }, cancellationToken);
    }

    public async Task<IReadOnlyList<MembershipChange>> GetMembershipChangesAsync(
        string userId, long sinceEvents, long upToEvents, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        Guard.Position(sinceEvents, nameof(sinceEvents));
        Guard.Position(upToEvents, nameof(upToEvents));
        if (upToEvents <= sinceEvents) return [];
        // The user's rooms come from its own membership rows, each room's events from (room_id, global_position).
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    "SELECT e.room_id, e.state_key, e.membership, e.global_position FROM events e " +
                    "WHERE e.room_id IN (SELECT room_id FROM current_state WHERE event_type = 'm.room.member' AND state_key = @user) " +
                    "AND e.global_position > @since AND e.global_position <= @upto " +
                    "AND e.event_type = 'm.room.member' AND e.state_key IS NOT NULL AND e.membership IS NOT NULL " +
                    "ORDER BY e.global_position")
                .With("@user", userId)
                .With("@since", sinceEvents)
                .With("@upto", upToEvents)
                .ListAsync(r => new MembershipChange(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3)), ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<string>> GetJoinedMembersAsync(IReadOnlyCollection<string> roomIds, CancellationToken cancellationToken)
    {
        Guard.RoomIds(roomIds, nameof(roomIds));
        if (roomIds.Count == 0) return [];
        return await db.ReadAsync(async (connection, ct) =>
        {
            var command = connection.Command("");
            command.CommandText =
                "SELECT DISTINCT state_key FROM current_state " +
                $"WHERE {db.InSet(command, "room_id", "@rooms", roomIds)} AND event_type = 'm.room.member' AND membership = 'join' " +
                "ORDER BY state_key";
            return await command.ListAsync(r => r.GetString(0), ct);
        }, cancellationToken);
    }

    public async Task<long?> GetDeviceListPositionAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        var positions = await db.ReadAsync((connection, ct) =>
            connection.Command("SELECT stream_position FROM device_list_changes WHERE user_id = @user")
                .With("@user", userId)
                .ListAsync(r => r.GetInt64(0), ct), cancellationToken);
        return positions.Count == 0 ? null : positions[0];
    }

    public Task<long> AppendRemoteDeviceListChangeAsync(string userId, CancellationToken cancellationToken)
    {
        Guard.Identifier(userId, nameof(userId));
        return db.WriteAsync((connection, transaction, ct) => AppendChangeAsync(connection, transaction, userId, ct), cancellationToken);
    }

    public Task<long> GetMaxDeviceListPositionAsync(CancellationToken cancellationToken) =>
        StreamPositions.CurrentAsync(db, StreamPositions.DeviceLists, cancellationToken);

    private static void CheckKey(UploadedKey key)
    {
        Guard.Identifier(key.Algorithm, nameof(key.Algorithm));
        Guard.Identifier(key.KeyId, nameof(key.KeyId));
        if (!key.KeyId.StartsWith(key.Algorithm + ":", StringComparison.Ordinal))
        {
            throw new ArgumentException("must be algorithm:id", nameof(key.KeyId));
        }
        Guard.Text(key.Json, MaxKeyJsonBytes, nameof(key.Json));
    }

    private static async Task<long> AppendChangeAsync(DbConnection connection, DbTransaction transaction, string userId, CancellationToken ct)
    {
        var position = await StreamPositions.AllocateAsync(connection, transaction, StreamPositions.DeviceLists, 1, ct);
        await connection.Command(
                "INSERT INTO device_list_changes (user_id, stream_position) VALUES (@user, @position) " +
                "ON CONFLICT (user_id) DO UPDATE SET stream_position = excluded.stream_position",
                transaction)
            .With("@user", userId)
            .With("@position", position)
            .ExecuteAsync(ct);
        return position;
    }

    private static async Task<IReadOnlyDictionary<string, int>> CountAsync(
        DbConnection connection, DbTransaction? transaction, string userId, string deviceId, CancellationToken ct)
    {
        var rows = await connection.Command(
                "SELECT algorithm, COUNT(*) FROM one_time_keys WHERE user_id = @user AND device_id = @device GROUP BY algorithm",
                transaction)
            .With("@user", userId)
            .With("@device", deviceId)
            .ListAsync(r => (Algorithm: r.GetString(0), Count: (int)r.GetInt64(1)), ct);
        return rows.ToDictionary(r => r.Algorithm, r => r.Count, StringComparer.Ordinal);
    }
}
