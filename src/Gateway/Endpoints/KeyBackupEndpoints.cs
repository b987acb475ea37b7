using System.Buffers;
using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Rooms;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.KeyBackups;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// Server-side key backups (client-server/key_backup.yaml): /room_keys/version and /room_keys/keys for the whole backup,
/// one room and one session. Bodies are checked here; which version is current and which key of a session is kept are
/// the key backup grain's rules. Guests may not call these (not in the Guest Access module's list).
/// </summary>
internal static class KeyBackupEndpoints
{
    private const string Prefix = "/_matrix/client/v3/room_keys";

    public static void MapKeyBackupEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Prefix + "/version", CreateVersionAsync);
        endpoints.MapGet(Prefix + "/version", (HttpContext context, [FromServices] IGrainFactory grains) => GetVersionAsync(context, null, grains));
        endpoints.MapGet(Prefix + "/version/{version}", (HttpContext context, string version, [FromServices] IGrainFactory grains) =>
            GetVersionAsync(context, version, grains));
        endpoints.MapPut(Prefix + "/version/{version}", UpdateVersionAsync);
        endpoints.MapDelete(Prefix + "/version/{version}", DeleteVersionAsync);

        endpoints.MapPut(Prefix + "/keys", (HttpContext context, [FromServices] IGrainFactory grains) => PutKeysAsync(context, null, null, grains));
        endpoints.MapPut(Prefix + "/keys/{roomId}", (HttpContext context, string roomId, [FromServices] IGrainFactory grains) =>
            PutKeysAsync(context, roomId, null, grains));
        endpoints.MapPut(Prefix + "/keys/{roomId}/{sessionId}", (HttpContext context, string roomId, string sessionId, [FromServices] IGrainFactory grains) =>
            PutKeysAsync(context, roomId, sessionId, grains));
        endpoints.MapGet(Prefix + "/keys", (HttpContext context, [FromServices] IGrainFactory grains) => GetKeysAsync(context, null, null, grains));
        endpoints.MapGet(Prefix + "/keys/{roomId}", (HttpContext context, string roomId, [FromServices] IGrainFactory grains) =>
            GetKeysAsync(context, roomId, null, grains));
        endpoints.MapGet(Prefix + "/keys/{roomId}/{sessionId}", (HttpContext context, string roomId, string sessionId, [FromServices] IGrainFactory grains) =>
            GetKeysAsync(context, roomId, sessionId, grains));
        endpoints.MapDelete(Prefix + "/keys", (HttpContext context, [FromServices] IGrainFactory grains) => DeleteKeysAsync(context, null, null, grains));
        endpoints.MapDelete(Prefix + "/keys/{roomId}", (HttpContext context, string roomId, [FromServices] IGrainFactory grains) =>
            DeleteKeysAsync(context, roomId, null, grains));
        endpoints.MapDelete(Prefix + "/keys/{roomId}/{sessionId}", (HttpContext context, string roomId, string sessionId, [FromServices] IGrainFactory grains) =>
            DeleteKeysAsync(context, roomId, sessionId, grains));
    }

    private static async Task<IKeyBackupGrain> BackupOfAsync(HttpContext context, IGrainFactory grains)
    {
        var session = await context.RequireSessionAsync();
        return grains.GetGrain<IKeyBackupGrain>(session.UserId);
    }

    private static async Task<IResult> CreateVersionAsync(HttpContext context, [FromServices] IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var (algorithm, authData) = ReadVersionBody(body);
        var version = await backup.CreateVersionAsync(algorithm, authData);
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("version"u8, version);
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> GetVersionAsync(HttpContext context, string? version, IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        var info = await backup.GetVersionAsync(version)
            ?? throw AccountErrors.NotFound(version is null ? "No current backup version." : "Unknown backup version.");
        return Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("algorithm"u8, info.Algorithm);
            writer.WritePropertyName("auth_data"u8);
            writer.WriteRawValue(info.AuthData, skipInputValidation: true);
            writer.WriteNumber("count"u8, info.Count);
            writer.WriteString("etag"u8, info.Etag);
            writer.WriteString("version"u8, info.Version);
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> UpdateVersionAsync(HttpContext context, string version, [FromServices] IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var (algorithm, authData) = ReadVersionBody(body);
        if (body.TryGetProperty("version", out var bodyVersion))
        {
            if (bodyVersion.ValueKind != JsonValueKind.String) throw MatrixException.BadJson("version must be a string.");
            if (bodyVersion.GetString() != version) throw AccountErrors.InvalidParam("The version in the body does not match the version in the path.");
        }
        await backup.UpdateVersionAsync(version, algorithm, authData);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> DeleteVersionAsync(HttpContext context, string version, [FromServices] IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        await backup.DeleteVersionAsync(version);
        return AccountsJsonBody.Empty();
    }

    private static async Task<IResult> PutKeysAsync(HttpContext context, string? roomId, string? sessionId, IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        var version = RequireVersionParameter(context);
        (roomId, sessionId) = PathIds(roomId, sessionId);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        var keys = new List<BackedUpKey>();
        if (sessionId is not null) keys.Add(ReadKey(roomId!, sessionId, body));
        else if (roomId is not null) ReadRoom(roomId, body, keys);
        else
        {
            foreach (var room in RequireObject(body, "rooms").EnumerateObject())
            {
                RequireRoomId(room.Name);
                if (room.Value.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson($"rooms.{room.Name} must be an object.");
                ReadRoom(room.Name, room.Value, keys);
            }
        }
        var upload = await backup.PutKeysAsync(version, keys);
        if (upload.CurrentVersion is not null)
        {
            throw new MatrixException(StatusCodes.Status403Forbidden,
                new MatrixError("M_WRONG_ROOM_KEYS_VERSION", "Wrong backup version.") { CurrentVersion = upload.CurrentVersion });
        }
        return State(upload.State!);
    }

    private static async Task<IResult> GetKeysAsync(HttpContext context, string? roomId, string? sessionId, IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        var version = RequireVersionParameter(context);
        (roomId, sessionId) = PathIds(roomId, sessionId);
        var keys = await backup.GetKeysAsync(version, roomId, sessionId);
        if (sessionId is not null)
        {
            // Synapse: a session that was never backed up is M_NOT_FOUND, while a room without keys is an empty object.
            var key = keys.Count == 1 ? keys[0] : throw AccountErrors.NotFound("No room_keys found.");
            return Json(writer => WriteKey(writer, key));
        }
        return Json(writer =>
        {
            writer.WriteStartObject();
            if (roomId is not null) WriteSessions(writer, keys);
            else
            {
                writer.WriteStartObject("rooms"u8);
                foreach (var room in keys.GroupBy(k => k.RoomId))
                {
                    writer.WriteStartObject(room.Key);
                    WriteSessions(writer, room);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        });
    }

    private static async Task<IResult> DeleteKeysAsync(HttpContext context, string? roomId, string? sessionId, IGrainFactory grains)
    {
        var backup = await BackupOfAsync(context, grains);
        var version = RequireVersionParameter(context);
        (roomId, sessionId) = PathIds(roomId, sessionId);
        return State(await backup.DeleteKeysAsync(version, roomId, sessionId));
    }

    /// <summary>The body of POST and PUT /room_keys/version: algorithm and auth_data, both required.</summary>
    private static (string Algorithm, byte[] AuthData) ReadVersionBody(JsonElement body)
    {
        if (!body.TryGetProperty("algorithm", out var algorithm)) throw MatrixException.BadJson("Missing key 'algorithm'.");
        if (algorithm.ValueKind != JsonValueKind.String) throw MatrixException.BadJson("algorithm must be a string.");
        var authData = RequireObject(body, "auth_data");
        // The spec's auth_data of m.megolm_backup.v1.curve25519-aes-sha2 requires the backup's public key.
        if (algorithm.GetString() == KeyBackupAlgorithms.MegolmBackupV1
            && !(authData.TryGetProperty("public_key", out var publicKey) && publicKey.ValueKind == JsonValueKind.String))
            throw MatrixException.BadJson("auth_data.public_key must be a string.");
        return (algorithm.GetString()!, AccountsJsonBody.Compact(authData));
    }

    private static void ReadRoom(string roomId, JsonElement room, List<BackedUpKey> keys)
    {
        foreach (var session in RequireObject(room, "sessions").EnumerateObject())
            keys.Add(ReadKey(roomId, session.Name, session.Value));
    }

    /// <summary>The spec's KeyBackupData: all four fields required, the counts non-negative integers.</summary>
    private static BackedUpKey ReadKey(string roomId, string sessionId, JsonElement key)
    {
        if (key.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson($"The key of session {sessionId} must be an object.");
        var firstMessageIndex = RequireCount(key, "first_message_index");
        var forwardedCount = RequireCount(key, "forwarded_count");
        if (!key.TryGetProperty("is_verified", out var verified)) throw MatrixException.BadJson("Missing key 'is_verified'.");
        if (verified.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw MatrixException.BadJson("is_verified must be a boolean.");
        var sessionData = RequireObject(key, "session_data");
        return new BackedUpKey(roomId, sessionId, firstMessageIndex, forwardedCount, verified.GetBoolean(), AccountsJsonBody.Compact(sessionData));
    }

    private static long RequireCount(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value)) throw MatrixException.BadJson($"Missing key '{name}'.");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var count) || count < 0)
            throw MatrixException.BadJson($"{name} must be a non-negative integer.");
        return count;
    }

    private static JsonElement RequireObject(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value)) throw MatrixException.BadJson($"Missing key '{name}'.");
        return value.ValueKind == JsonValueKind.Object ? value : throw MatrixException.BadJson($"{name} must be an object.");
    }

    private static string RequireVersionParameter(HttpContext context)
    {
        var version = context.Request.Query["version"];
        // Synapse: the version query parameter is required on every /room_keys/keys call.
        if (version.Count == 0 || string.IsNullOrEmpty(version[0])) throw AccountErrors.MissingParam("Missing string query parameter 'version'.");
        return version[0]!;
    }

    /// <summary>The room (400 M_INVALID_PARAM when not a room ID) and session of the path; megolm session IDs hold '/'.</summary>
    private static (string? RoomId, string? SessionId) PathIds(string? roomId, string? sessionId) =>
        (roomId is null ? null : RoomPath.RoomId(roomId), sessionId is null ? null : RoomPath.Text(sessionId));

    private static void RequireRoomId(string roomId)
    {
        if (!RoomId.IsValid(roomId)) throw AccountErrors.InvalidParam($"{roomId} is not a valid room ID.");
    }

    private static IResult State(KeyBackupState state) => Json(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("etag"u8, state.Etag);
        writer.WriteNumber("count"u8, state.Count);
        writer.WriteEndObject();
    });

    private static void WriteSessions(Utf8JsonWriter writer, IEnumerable<BackedUpKey> keys)
    {
        writer.WriteStartObject("sessions"u8);
        foreach (var key in keys)
        {
            writer.WritePropertyName(key.SessionId);
            WriteKey(writer, key);
        }
        writer.WriteEndObject();
    }

    private static void WriteKey(Utf8JsonWriter writer, BackedUpKey key)
    {
        writer.WriteStartObject();
        writer.WriteNumber("first_message_index"u8, key.FirstMessageIndex);
        writer.WriteNumber("forwarded_count"u8, key.ForwardedCount);
        writer.WriteBoolean("is_verified"u8, key.IsVerified);
        writer.WritePropertyName("session_data"u8);
        writer.WriteRawValue(key.SessionData, skipInputValidation: true);
        writer.WriteEndObject();
    }

    private static IResult Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) write(writer);
        return AccountsJsonBody.Bytes(buffer.WrittenSpan.ToArray());
    }
}
