# Sourced by lib.sh and bench/run.sh: generous_rate_limits, arguments that raise every rate limit bucket of the server
# (RateLimitBucket in src/Gateway/RateLimiting) far above the production defaults, for load from one address.
generous_rate_limits=()
for bucket in LoginAddress Registration RegistrationAvailability RegistrationTokenValidity AddressRequests UserRequests \
  LoginAccount LoginFailedAttempts Message RoomCreation JoinsLocal JoinsPerRoom InvitesPerRoom InvitesPerUser InvitesPerIssuer \
  MediaUpload KeysUpload ToDevice Reports ThirdPartyIdValidation; do
  generous_rate_limits+=("--RateLimits:$bucket:PerSecond=100000" "--RateLimits:$bucket:Burst=100000")
done
