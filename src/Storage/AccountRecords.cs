namespace HomeServer.Storage;

/// <param name="UserId">Full Matrix user id, <c>@local:server</c>.</param>
/// <param name="PasswordHash">Encoded password hash, or null for an account without password login.</param>
/// <param name="CreatedTs">Milliseconds since the Unix epoch.</param>
/// <param name="IsGuest">A guest account (registered with kind=guest): it may use only part of the API.</param>
public sealed record NewAccount(string UserId, string? PasswordHash, long CreatedTs, bool IsAdmin = false, bool IsGuest = false);

/// <param name="Erased">Deactivated with erasure: its events are served pruned to users who were not joined when they were sent.</param>
public sealed record Account(
    string UserId,
    string? PasswordHash,
    long CreatedTs,
    bool IsAdmin,
    bool Deactivated,
    string? DisplayName,
    string? AvatarUrl,
    bool IsGuest = false,
    bool Erased = false,
    bool Locked = false,
    bool Suspended = false);
