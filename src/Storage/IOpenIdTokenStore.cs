namespace HomeServer.Storage;

/// <summary>
/// OpenID tokens: a user asks for one and hands it to a third party, which learns the user id from the federation
/// userinfo endpoint. Only the SHA-256 of a token is stored.
/// </summary>
public interface IOpenIdTokenStore
{
    /// <summary>Stores the token of an existing account, valid until <paramref name="expiresTs"/> (ms); false when there is no such account.</summary>
    Task<bool> CreateAsync(string userId, string token, long expiresTs, CancellationToken cancellationToken);

    /// <summary>The user id of a token that has not expired at <paramref name="now"/> and whose account is active, or null.</summary>
    Task<string?> FindUserAsync(string token, long now, CancellationToken cancellationToken);
}
