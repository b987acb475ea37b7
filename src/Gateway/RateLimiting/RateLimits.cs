using HomeServer.Grains.Accounts;
using HomeServer.Grains.RateLimits;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Orleans;

namespace HomeServer.Gateway.RateLimiting;

/// <summary>
/// What endpoints call to stay within the configured limits: each method returns when the request may go on and
/// throws 429 <c>M_LIMIT_EXCEEDED</c> with <c>retry_after_ms</c> when it may not. Per-address buckets and cheap per-user
/// ones are counted by this gateway; per-account, per-user and per-room ones by the subject's <see cref="IRateLimitGrain"/>,
/// so they hold across gateways.
/// </summary>
public sealed class RateLimits : IDisposable
{
    private readonly RateLimitOptions _options;
    private readonly IGrainFactory _grains;
    private readonly HashSet<string> _exemptUsers;
    private readonly GatewayRateLimiters _gateway;

    public RateLimits(IOptions<RateLimitOptions> options, IGrainFactory grains)
    {
        _options = options.Value;
        _grains = grains;
        _exemptUsers = new HashSet<string>(_options.ExemptUsers, StringComparer.Ordinal);
        _gateway = new GatewayRateLimiters(_options);
    }

    /// <summary>Admins (when <see cref="RateLimitOptions.ExemptAdmins"/>) and the configured users are never limited.</summary>
    public bool IsExempt(Session session) =>
        !_options.Enabled || (_options.ExemptAdmins && session.IsAdmin) || _exemptUsers.Contains(session.UserId);

    /// <summary>One request from the client address of <paramref name="context"/>, counted by this gateway.</summary>
    public void RequireForAddress(HttpContext context, RateLimitBucket bucket)
    {
        if (!_options.Enabled) return;
        if (_gateway.TryTake(bucket, ClientAddress.KeyOf(context)) is { } retryAfterMs) throw RateLimitExceeded.After(retryAfterMs);
    }

    /// <summary>Refuses while the client address's bucket is empty, taking nothing.</summary>
    public void RequireAddressNotExhausted(HttpContext context, RateLimitBucket bucket)
    {
        if (!_options.Enabled) return;
        if (_gateway.TryTake(bucket, ClientAddress.KeyOf(context), cost: 0) is { } retryAfterMs) throw RateLimitExceeded.After(retryAfterMs);
    }

    /// <summary>Takes a token from the client address's bucket whether or not it has one (a failed login costs more).</summary>
    public void ChargeAddress(HttpContext context, RateLimitBucket bucket)
    {
        if (_options.Enabled) _gateway.TryTake(bucket, ClientAddress.KeyOf(context));
    }

    /// <summary>One cheap request of the user, counted by this gateway.</summary>
    public void RequireForUserHere(Session session, RateLimitBucket bucket)
    {
        if (IsExempt(session)) return;
        if (_gateway.TryTake(bucket, session.UserId) is { } retryAfterMs) throw RateLimitExceeded.After(retryAfterMs);
    }

    /// <summary>One action of the user, counted cluster-wide.</summary>
    public Task RequireForUserAsync(Session session, RateLimitBucket bucket) => RequireAsync(session, session.UserId, bucket);

    /// <summary>One action of <paramref name="actor"/> charged to <paramref name="subject"/> (a room, an invitee), counted cluster-wide.</summary>
    public async Task RequireAsync(Session actor, string subject, RateLimitBucket bucket)
    {
        if (IsExempt(actor)) return;
        var decision = await _grains.GetGrain<IRateLimitGrain>(subject).TryTakeAsync(Rule(bucket, persisted: false));
        if (!decision.Allowed) throw RateLimitExceeded.After(decision.RetryAfterMs);
    }

    /// <summary>One attempt charged to an account before anyone is authenticated (login), counted cluster-wide.</summary>
    public async Task RequireForAccountAsync(string userId, RateLimitBucket bucket)
    {
        if (!_options.Enabled) return;
        var decision = await _grains.GetGrain<IRateLimitGrain>(userId).TryTakeAsync(Rule(bucket, persisted: false));
        if (!decision.Allowed) throw RateLimitExceeded.After(decision.RetryAfterMs);
    }

    /// <summary>Refuses while the account's bucket is empty, taking nothing (failed attempts are charged after the fact).</summary>
    public async Task RequireNotExhaustedAsync(string userId, RateLimitBucket bucket)
    {
        if (!_options.Enabled) return;
        // As persisted: a stored bucket that has refilled is then deleted (there is none for accounts that do not exist).
        var decision = await _grains.GetGrain<IRateLimitGrain>(userId).CheckAsync(Rule(bucket, persisted: true));
        if (!decision.Allowed) throw RateLimitExceeded.After(decision.RetryAfterMs);
    }

    /// <summary>
    /// Charges a failure to the account. <paramref name="persisted"/> keeps the bucket in the store, across restarts;
    /// callers pass it only for accounts that exist, so guessed user ids cannot fill the store.
    /// </summary>
    public Task PenalizeAccountAsync(string userId, RateLimitBucket bucket, bool persisted) =>
        _options.Enabled ? _grains.GetGrain<IRateLimitGrain>(userId).PenalizeAsync(Rule(bucket, persisted)) : Task.CompletedTask;

    private RateLimitRule Rule(RateLimitBucket bucket, bool persisted)
    {
        var limit = _options.For(bucket);
        return new RateLimitRule(bucket.ToString(), limit.PerSecond, limit.Burst, persisted);
    }

    public void Dispose() => _gateway.Dispose();
}
