namespace HomeServer.Storage;

/// <param name="UserId">Full Matrix user id, <c>@local:server</c>.</param>
/// <param name="PasswordHash">Encoded password hash, or null for an account without password login.</param>
/// <param name="CreatedTs">Milliseconds since the Unix epoch.</param>
public sealed record NewAccount(string UserId, string? PasswordHash, long CreatedTs, bool IsAdmin = false);

public sealed record Account(
    string UserId,
    string? PasswordHash,
    long CreatedTs,
    bool IsAdmin,
    bool Deactivated,
    string? DisplayName,
    string? AvatarUrl);
