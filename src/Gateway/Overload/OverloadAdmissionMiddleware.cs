using System.Globalization;
using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Overload;

/// <summary>
/// Admits each request into the in-flight bounds of <see cref="RequestAdmission"/>, or answers it at once with 429
/// <c>M_LIMIT_EXCEEDED</c>, <c>retry_after_ms</c> and <c>Retry-After</c>, before anything is read or done. The user is
/// the one the access token names, read without asking the user's grain: shedding must cost nothing, and a forged token
/// only takes slots of the user it names until its request fails authentication.
/// </summary>
internal sealed class OverloadAdmissionMiddleware(RequestDelegate next, RequestAdmission admission)
{
    private static readonly MatrixError Busy = new(MatrixErrorCode.LimitExceeded, "The server is busy; retry later.");

    public async Task InvokeAsync(HttpContext context)
    {
        if (!admission.Enabled || AdmissionExemptions.IsExempt(context.Request))
        {
            await next(context);
            return;
        }

        IDisposable? slots;
        try
        {
            slots = await admission.AdmitAsync(PartitionOf(context), context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return; // The client went away while it waited: nobody to answer.
        }

        if (slots is null)
        {
            var retryAfterMs = admission.RetryAfterMs();
            context.Response.Headers.RetryAfter = ((retryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            await MatrixErrorResponse.WriteAsync(context.Response, StatusCodes.Status429TooManyRequests, Busy with { RetryAfterMs = retryAfterMs });
            return;
        }

        using (slots)
        {
            await next(context);
        }
    }

    private static string PartitionOf(HttpContext context) =>
        AccessTokens.TryGetUserId(SessionAuthentication.ReadAccessToken(context.Request)) ?? ClientAddress.KeyOf(context);
}
