using HomeServer.Storage;

namespace HomeServer.Grains.KeyBackups;

/// <summary>
/// The spec's rule for a session already in the backup (Server-side key backups): keep the key with
/// <c>is_verified</c> true; when both agree, the lower <c>first_message_index</c>; when that is equal too, the lower
/// <c>forwarded_count</c>. A key no better than the stored one leaves it in place.
/// </summary>
public static class BackupKeyPreference
{
    public static bool Replaces(BackupSessionKey stored, BackupSessionKey offered)
    {
        if (offered.IsVerified != stored.IsVerified) return offered.IsVerified;
        if (offered.FirstMessageIndex != stored.FirstMessageIndex) return offered.FirstMessageIndex < stored.FirstMessageIndex;
        return offered.ForwardedCount < stored.ForwardedCount;
    }
}
