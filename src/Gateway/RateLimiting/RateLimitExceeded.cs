using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.RateLimiting;

internal static class RateLimitExceeded
{
    /// <summary>429 <c>M_LIMIT_EXCEEDED</c> with <c>retry_after_ms</c>; the exception middleware adds <c>Retry-After</c>.</summary>
    public static MatrixException After(long retryAfterMs) =>
        new(StatusCodes.Status429TooManyRequests,
            new MatrixError(MatrixErrorCode.LimitExceeded, "Too many requests; retry later.") { RetryAfterMs = Math.Max(1, retryAfterMs) });
}
