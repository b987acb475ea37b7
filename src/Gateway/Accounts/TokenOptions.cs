namespace HomeServer.Gateway.Accounts;

/// <summary>Lifetimes of the tokens a client asks for: access tokens that come with a refresh token, and OpenID tokens.</summary>
public sealed class TokenOptions
{
    public const string SectionName = "Tokens";

    /// <summary>How long an access token issued with a refresh token lasts (as Synapse's default, 5 minutes).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an OpenID token lasts (as Synapse, one hour); the third party sees it as <c>expires_in</c>.</summary>
    public TimeSpan OpenIdTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    internal long AccessTokenLifetimeMs => (long)AccessTokenLifetime.TotalMilliseconds;

    /// <summary>The access token lifetime when the client asked for a refresh token (<c>refresh_token: true</c>), else null.</summary>
    internal long? LifetimeIfRefreshable(bool? refreshToken) => refreshToken == true ? AccessTokenLifetimeMs : null;

    public bool IsValid => AccessTokenLifetime.TotalMilliseconds >= 1 && OpenIdTokenLifetime.TotalMilliseconds >= 1;
}
