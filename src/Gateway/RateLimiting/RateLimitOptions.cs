namespace HomeServer.Gateway.RateLimiting;

/// <summary>A token bucket: up to <see cref="Burst"/> requests at once, then <see cref="PerSecond"/> on average.</summary>
public sealed class TokenBucketOptions
{
    public double PerSecond { get; set; }

    public int Burst { get; set; }

    public static TokenBucketOptions Of(double perSecond, int burst) => new() { PerSecond = perSecond, Burst = burst };
}

/// <summary>
/// Bound from the <c>RateLimits</c> section. Defaults follow Synapse's <c>rc_*</c> settings where Synapse has one
/// (noted on each bucket); README.md lists every key.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>False turns every limit off (benchmarks); the buckets below are then ignored.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Server admins are not limited on their authenticated requests.</summary>
    public bool ExemptAdmins { get; set; } = true;

    /// <summary>User ids that are never limited on their authenticated requests (bots, bridges, application services).</summary>
    public List<string> ExemptUsers { get; set; } = [];

    /// <summary>
    /// Addresses (<c>10.0.0.5</c>) or networks (<c>10.0.0.0/8</c>) of reverse proxies whose <c>X-Forwarded-For</c> names the
    /// client. From anyone else the header is ignored. The client address keys the per-address limits and is recorded as
    /// where a device was last seen.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>rc_login.address: login attempts per client address; a failed one costs an extra token.</summary>
    public TokenBucketOptions LoginAddress { get; set; } = TokenBucketOptions.Of(0.17, 3);

    /// <summary>rc_registration: registrations per client address.</summary>
    public TokenBucketOptions Registration { get; set; } = TokenBucketOptions.Of(0.17, 3);

    /// <summary><c>register/available</c> per client address (Synapse throttles it per address too).</summary>
    public TokenBucketOptions RegistrationAvailability { get; set; } = TokenBucketOptions.Of(1, 10);

    /// <summary>rc_registration_token_validity: registration token checks per client address.</summary>
    public TokenBucketOptions RegistrationTokenValidity { get; set; } = TokenBucketOptions.Of(0.1, 5);

    /// <summary>Other unauthenticated endpoints the spec marks rate-limited (<c>GET /login</c>), per client address.</summary>
    public TokenBucketOptions AddressRequests { get; set; } = TokenBucketOptions.Of(10, 50);

    /// <summary>
    /// Cheap authenticated endpoints the spec marks rate-limited (whoami, capabilities, room aliases, typing, receipts,
    /// read markers), per user and gateway.
    /// </summary>
    public TokenBucketOptions UserRequests { get; set; } = TokenBucketOptions.Of(5, 50);

    /// <summary>rc_login.account: login attempts per account.</summary>
    public TokenBucketOptions LoginAccount { get; set; } = TokenBucketOptions.Of(0.17, 3);

    /// <summary>rc_login.failed_attempts: failed password checks (login and user-interactive auth) per account; kept in the store.</summary>
    public TokenBucketOptions LoginFailedAttempts { get; set; } = TokenBucketOptions.Of(0.17, 3);

    /// <summary>rc_message: events sent (messages, state, redactions), membership changes other than join and invite, profile and password changes, per user.</summary>
    public TokenBucketOptions Message { get; set; } = TokenBucketOptions.Of(0.2, 10);

    /// <summary>rc_room_creation: rooms created per user.</summary>
    public TokenBucketOptions RoomCreation { get; set; } = TokenBucketOptions.Of(0.016, 10);

    /// <summary>rc_joins.local: joins per user.</summary>
    public TokenBucketOptions JoinsLocal { get; set; } = TokenBucketOptions.Of(0.1, 10);

    /// <summary>rc_joins_per_room: joins per room, from all users.</summary>
    public TokenBucketOptions JoinsPerRoom { get; set; } = TokenBucketOptions.Of(1, 10);

    /// <summary>rc_invites.per_room: invites sent into one room.</summary>
    public TokenBucketOptions InvitesPerRoom { get; set; } = TokenBucketOptions.Of(0.3, 10);

    /// <summary>rc_invites.per_user: invites received by one user.</summary>
    public TokenBucketOptions InvitesPerUser { get; set; } = TokenBucketOptions.Of(0.003, 5);

    /// <summary>rc_invites.per_issuer: invites sent by one user.</summary>
    public TokenBucketOptions InvitesPerIssuer { get; set; } = TokenBucketOptions.Of(0.3, 10);

    /// <summary>rc_media_create: media uploads per user (no endpoint yet).</summary>
    public TokenBucketOptions MediaUpload { get; set; } = TokenBucketOptions.Of(10, 50);

    /// <summary>Device and one-time key uploads per user (no endpoint yet; Synapse has no limit).</summary>
    public TokenBucketOptions KeysUpload { get; set; } = TokenBucketOptions.Of(5, 50);

    /// <summary>rc_key_requests: to-device messages per user (no endpoint yet).</summary>
    public TokenBucketOptions ToDevice { get; set; } = TokenBucketOptions.Of(20, 100);

    /// <summary>rc_reports: content and user reports per user (no endpoint yet).</summary>
    public TokenBucketOptions Reports { get; set; } = TokenBucketOptions.Of(1, 5);

    /// <summary>rc_3pid_validation: third-party identifier validation requests per address (no endpoint yet).</summary>
    public TokenBucketOptions ThirdPartyIdValidation { get; set; } = TokenBucketOptions.Of(0.003, 5);

    public TokenBucketOptions For(RateLimitBucket bucket) => bucket switch
    {
        RateLimitBucket.LoginAddress => LoginAddress,
        RateLimitBucket.Registration => Registration,
        RateLimitBucket.RegistrationAvailability => RegistrationAvailability,
        RateLimitBucket.RegistrationTokenValidity => RegistrationTokenValidity,
        RateLimitBucket.AddressRequests => AddressRequests,
        RateLimitBucket.UserRequests => UserRequests,
        RateLimitBucket.LoginAccount => LoginAccount,
        RateLimitBucket.LoginFailedAttempts => LoginFailedAttempts,
        RateLimitBucket.Message => Message,
        RateLimitBucket.RoomCreation => RoomCreation,
        RateLimitBucket.JoinsLocal => JoinsLocal,
        RateLimitBucket.JoinsPerRoom => JoinsPerRoom,
        RateLimitBucket.InvitesPerRoom => InvitesPerRoom,
        RateLimitBucket.InvitesPerUser => InvitesPerUser,
        RateLimitBucket.InvitesPerIssuer => InvitesPerIssuer,
        RateLimitBucket.MediaUpload => MediaUpload,
        RateLimitBucket.KeysUpload => KeysUpload,
        RateLimitBucket.ToDevice => ToDevice,
        RateLimitBucket.Reports => Reports,
        RateLimitBucket.ThirdPartyIdValidation => ThirdPartyIdValidation,
        _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, null),
    };
}
