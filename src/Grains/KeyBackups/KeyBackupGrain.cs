using System.Globalization;
using System.Text;
using HomeServer.Storage;
using Orleans;

namespace HomeServer.Grains.KeyBackups;

/// <summary>
/// One user's server-side key backups. Nothing is cached: every answer comes from the store, so a restarted or moved
/// grain serves the same; the grain only makes one user's writes run one at a time, and owns the Matrix rules (which
/// version is current, which key of a session is kept).
/// </summary>
[GrainType("key-backup")]
public sealed class KeyBackupGrain(IHomeServerStore store) : HomeServerGrain, IKeyBackupGrain
{
    /// <summary>The largest auth_data and session_data kept (the store's limit for JSON content).</summary>
    public const int MaxJsonBytes = StoreLimits.MaxContentJsonBytes;

    private IKeyBackupStore Backups => store.KeyBackups;

    public async Task<string> CreateVersionAsync(string algorithm, byte[] authData)
    {
        RequireKnown(algorithm);
        RequireJson(authData, "auth_data");
        var version = await Backups.CreateVersionAsync(Key, algorithm, authData, CancellationToken.None);
        return Format(version);
    }

    public async Task<KeyBackupVersion?> GetVersionAsync(string? version)
    {
        StoredBackupVersion? stored;
        if (version is null) stored = await Backups.GetCurrentVersionAsync(Key, CancellationToken.None);
        else if (TryParse(version, out var number)) stored = await Backups.GetVersionAsync(Key, number, CancellationToken.None);
        else return null;
        return stored is null ? null : new KeyBackupVersion(Format(stored.Version), stored.Algorithm, stored.AuthData, stored.Count, Format(stored.Etag));
    }

    public async Task UpdateVersionAsync(string version, string algorithm, byte[] authData)
    {
        RequireJson(authData, "auth_data");
        var number = RequireVersionNumber(version);
        var stored = await Backups.GetVersionAsync(Key, number, CancellationToken.None) ?? throw UnknownVersion();
        // Synapse compares the algorithm only after finding the version: an unknown version is 404 whatever the body.
        if (algorithm != stored.Algorithm) throw MatrixRequestException.InvalidParam("Algorithm does not match.");
        if (!await Backups.UpdateAuthDataAsync(Key, number, authData, CancellationToken.None)) throw UnknownVersion();
    }

    public async Task DeleteVersionAsync(string version)
    {
        if (!await Backups.DeleteVersionAsync(Key, RequireVersionNumber(version), CancellationToken.None)) throw UnknownVersion();
    }

    public async Task<KeyBackupUpload> PutKeysAsync(string version, IReadOnlyList<BackedUpKey> keys)
    {
        var number = RequireVersionNumber(version);
        foreach (var key in keys) RequireValid(key);
        var stored = keys.Select(k => new BackupSessionKey(k.RoomId, k.SessionId, k.FirstMessageIndex, k.ForwardedCount, k.IsVerified, k.SessionData)).ToList();
        var state = await Backups.PutKeysAsync(Key, number, stored, BackupKeyPreference.Replaces, CancellationToken.None);
        if (state is not null) return new KeyBackupUpload(new KeyBackupState(Format(state.Etag), state.Count), null);
        // Not stored: the version is not the current one. An older version that still exists is the spec's
        // M_WRONG_ROOM_KEYS_VERSION with the current one; a version that does not exist (or none at all) is not found.
        var current = await Backups.GetCurrentVersionAsync(Key, CancellationToken.None);
        if (current is null || current.Version == number || await Backups.GetVersionAsync(Key, number, CancellationToken.None) is null)
            throw UnknownVersion();
        return new KeyBackupUpload(null, Format(current.Version));
    }

    public async Task<IReadOnlyList<BackedUpKey>> GetKeysAsync(string version, string? roomId, string? sessionId)
    {
        var number = await RequireExistingAsync(version);
        var keys = await Backups.GetKeysAsync(Key, number, roomId, sessionId, CancellationToken.None);
        return keys.Select(k => new BackedUpKey(k.RoomId, k.SessionId, k.FirstMessageIndex, k.ForwardedCount, k.IsVerified, k.SessionData)).ToList();
    }

    public async Task<KeyBackupState> DeleteKeysAsync(string version, string? roomId, string? sessionId)
    {
        var state = await Backups.DeleteKeysAsync(Key, RequireVersionNumber(version), roomId, sessionId, CancellationToken.None)
            ?? throw UnknownVersion();
        return new KeyBackupState(Format(state.Etag), state.Count);
    }

    private async Task<long> RequireExistingAsync(string version)
    {
        var number = RequireVersionNumber(version);
        if (await Backups.GetVersionAsync(Key, number, CancellationToken.None) is null) throw UnknownVersion();
        return number;
    }

    /// <summary>Versions are the decimal numbers this server hands out; anything else names no backup (Synapse: 404).</summary>
    private static long RequireVersionNumber(string version) => TryParse(version, out var number) ? number : throw UnknownVersion();

    private static bool TryParse(string version, out long number) =>
        long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0;

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static MatrixRequestException UnknownVersion() => MatrixRequestException.NotFound("Unknown backup version.");

    private static void RequireKnown(string algorithm)
    {
        if (algorithm != KeyBackupAlgorithms.MegolmBackupV1)
            throw MatrixRequestException.InvalidParam($"Unknown backup algorithm; this server knows {KeyBackupAlgorithms.MegolmBackupV1}.");
    }

    private static void RequireValid(BackedUpKey key)
    {
        RequireIdentifier(key.RoomId, "room ID");
        RequireIdentifier(key.SessionId, "session ID");
        if (key.FirstMessageIndex < 0 || key.ForwardedCount < 0)
            throw MatrixRequestException.BadJson("first_message_index and forwarded_count must not be negative.");
        RequireJson(key.SessionData, "session_data");
    }

    private static void RequireIdentifier(string value, string what)
    {
        if (value.Length == 0 || value.Contains('\0') || Encoding.UTF8.GetByteCount(value) > StoreLimits.MaxIdentifierBytes)
            throw MatrixRequestException.InvalidParam($"A {what} must be 1 to {StoreLimits.MaxIdentifierBytes} bytes without NUL.");
    }

    private static void RequireJson(byte[] json, string what)
    {
        if (json.Length > MaxJsonBytes) throw new MatrixRequestException("M_TOO_LARGE", $"{what} is larger than {MaxJsonBytes} bytes.");
        if (json.Length == 0 || json[0] != (byte)'{') throw MatrixRequestException.BadJson($"{what} must be a JSON object.");
    }
}
