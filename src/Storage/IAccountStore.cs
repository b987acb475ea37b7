namespace HomeServer.Storage;

/// <summary>Local user accounts and their profile.</summary>
public interface IAccountStore
{
    /// <summary>Creates the account; false when the user id is already taken.</summary>
    Task<bool> CreateAccountAsync(NewAccount account, CancellationToken cancellationToken);

    Task<Account?> GetAccountAsync(string userId, CancellationToken cancellationToken);

    /// <summary>Replaces the password hash (null disables password login); false when there is no such account.</summary>
    Task<bool> SetPasswordHashAsync(string userId, string? passwordHash, CancellationToken cancellationToken);

    /// <summary>
    /// Turns an active guest account into a full account with this password hash, in one statement; false when
    /// there is no such account or it is not an active guest (so of two concurrent upgrades only one succeeds).
    /// </summary>
    Task<bool> UpgradeGuestAsync(string userId, string passwordHash, CancellationToken cancellationToken);

    Task<bool> SetAdminAsync(string userId, bool isAdmin, CancellationToken cancellationToken);

    /// <summary>Locks or unlocks the account (a server admin's moderation); false when there is no such account.</summary>
    Task<bool> SetLockedAsync(string userId, bool locked, CancellationToken cancellationToken);

    /// <summary>Suspends or reinstates the account (a server admin's moderation); false when there is no such account.</summary>
    Task<bool> SetSuspendedAsync(string userId, bool suspended, CancellationToken cancellationToken);

    Task<bool> SetDisplayNameAsync(string userId, string? displayName, CancellationToken cancellationToken);

    Task<bool> SetAvatarUrlAsync(string userId, string? avatarUrl, CancellationToken cancellationToken);

    /// <summary>
    /// Marks the account deactivated (and erased when <paramref name="erase"/> is set), clears its password hash, display
    /// name and avatar and deletes all its devices and access tokens, and with <paramref name="erase"/> its account data
    /// (the spec's erasure of non-event data), in one transaction. Repeating it changes nothing
    /// more; an erased account stays erased. False when there is no such account.
    /// </summary>
    Task<bool> DeactivateAsync(string userId, bool erase, CancellationToken cancellationToken);

    /// <summary>Those of <paramref name="userIds"/> whose accounts are erased.</summary>
    Task<IReadOnlySet<string>> GetErasedUsersAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken);
}
