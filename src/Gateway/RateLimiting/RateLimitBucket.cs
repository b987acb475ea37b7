namespace HomeServer.Gateway.RateLimiting;

/// <summary>
/// The configured token buckets. Each name is also the key under <c>RateLimits</c> and, for buckets kept by a grain,
/// the action name the grain stores; renaming one loses the counts stored under the old name.
/// </summary>
public enum RateLimitBucket
{
    // Per client address, counted by each gateway.
    LoginAddress,
    Registration,
    RegistrationAvailability,
    RegistrationTokenValidity,
    AddressRequests,

    // Per user, counted by each gateway: cheap requests where an exact cluster-wide count is not worth a grain call.
    UserRequests,

    // Counted cluster-wide by the rate-limit grain of an account, a user or a room.
    LoginAccount,
    LoginFailedAttempts,
    Message,
    RoomCreation,
    JoinsLocal,
    JoinsPerRoom,
    InvitesPerRoom,
    InvitesPerUser,
    InvitesPerIssuer,

    // Configured for endpoints that do not exist yet.
    MediaUpload,
    KeysUpload,
    ToDevice,
    Reports,
    ThirdPartyIdValidation,
}
