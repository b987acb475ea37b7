using HomeServer.Gateway.Auth;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Presence;
using HomeServer.Grains.Presence;
using HomeServer.Grains.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Gateway.Endpoints;

internal static class SyncEndpoints
{
    /// <summary>How often a long-poll whose silo went away is asked again before the client gets a 503.</summary>
    private const int MaxAsksAfterSiloLoss = 5;
    private static readonly TimeSpan PauseBeforeAskingAgain = TimeSpan.FromMilliseconds(500);

    private static readonly string[] PresenceValues = ["offline", "online", "unavailable"];
    /// <summary>How long a /sync waits for its presence mark before going on without it.</summary>
    private static readonly TimeSpan PresenceMarkWait = TimeSpan.FromSeconds(1);

    public static void MapSyncEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/client/v3/sync", SyncAsync);
        endpoints.MapGet("/_matrix/client/r0/sync", SyncAsync);
    }

    private static async Task SyncAsync(
        HttpContext context, IGrainFactory grains, IHostApplicationLifetime lifetime, ILoggerFactory loggers,
        SyncPresenceMarks presenceMarks, CheckedInlineFilters checkedFilters)
    {
        var session = await context.RequireSessionAsync();
        var query = context.Request.Query;
        var timeout = LongPoll.Timeout(query["timeout"]);
        var fullState = ParseBoolean(query["full_state"], "full_state");
        var presence = query["set_presence"].ToString();
        if (presence.Length > 0 && !PresenceValues.Contains(presence))
            throw InvalidParam("set_presence must be one of offline, online, unavailable.");
        var since = NullIfEmpty(query["since"].ToString());
        var filter = NullIfEmpty(query["filter"].ToString());
        if (filter is not null && filter.StartsWith('{'))
            checkedFilters.Require(filter, inline => RequireInlineFilterWithinLimits(inline, context.InputLimits()));

        // set_presence: online unless the client says otherwise; offline leaves the presence alone (the spec's "not
        // marked online"). Marked before the sync so that a change it makes is in this very response; but presence is
        // best effort: it never fails a /sync, and while the store is slow to answer the sync goes on after a moment
        // rather than waiting for it twice.
        var marking = MarkPresenceAsync(grains, presenceMarks, session.UserId, presence.Length > 0 ? presence : PresenceStates.Online, loggers);
        try
        {
            // Not Task.Delay: its timer would live on for the whole wait after every mark that answered at once.
            await marking.WaitAsync(PresenceMarkWait, context.RequestAborted);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
        }

        var grain = grains.GetGrain<ISyncGrain>(session.UserId);
        var aborted = context.RequestAborted;
        // While this process stops, Kestrel waits for open requests before the silo deactivates grains, so a parked
        // wait is cut short here and answered at once with what there is; the client then syncs again elsewhere.
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(aborted, lifetime.ApplicationStopping);
        var deadline = DateTimeOffset.UtcNow + timeout;
        SyncResponse response;
        var lostCalls = 0;
        while (true)
        {
            var slice = LongPoll.NextWait(deadline);
            var request = new SyncRequest(session.DeviceId, since, filter, fullState, slice);
            try
            {
                response = await grain.SyncAsync(request, waiting.Token);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                response = await grain.SyncAsync(request with { Timeout = TimeSpan.Zero }, aborted);
                break;
            }
            catch (SiloUnavailableException) when (!aborted.IsCancellationRequested && ++lostCalls <= MaxAsksAfterSiloLoss)
            {
                // The silo holding the wait went away and the call could not be sent anew in time: ask again, wherever
                // the grain is now. The same since token makes asking twice harmless.
                if (lostCalls > 1) await Task.Delay(PauseBeforeAskingAgain, aborted);
                continue;
            }
            if (!response.IsEmpty || response.Superseded || DateTimeOffset.UtcNow >= deadline || waiting.IsCancellationRequested) break;
            since = response.NextBatch;
        }

        await SegmentedJsonResponse.WriteAsync(context.Response, response.Body, aborted);
    }

    private static async Task MarkPresenceAsync(
        IGrainFactory grains, SyncPresenceMarks marks, string userId, string presence, ILoggerFactory loggers)
    {
        if (marks.IsFresh(userId, presence)) return;
        try
        {
            await grains.GetGrain<IPresenceGrain>(userId).SyncingAsync(presence);
            marks.Marked(userId, presence);
        }
        catch (Exception exception)
        {
            loggers.CreateLogger(typeof(SyncEndpoints)).LogDebug(exception, "The presence of {UserId} was not marked for this sync", userId);
        }
    }

    /// <summary>The sync grain reads the filter; the gateway only bounds its size before it travels there.</summary>
    private static void RequireInlineFilterWithinLimits(string filter, InputLimitsOptions limits)
    {
        var body = new System.Buffers.ReadOnlySequence<byte>(System.Text.Encoding.UTF8.GetBytes(filter));
        FilterSizeRules.Require(MatrixJsonBody.Deserialize(body, AccountsJsonContext.Default.FilterDefinition, limits.MaxJsonDepth), limits);
    }

    private static bool ParseBoolean(string? value, string name) => value switch
    {
        null or "" or "false" => false,
        "true" => true,
        _ => throw InvalidParam($"{name} must be true or false."),
    };

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static MatrixException InvalidParam(string message) =>
        new(StatusCodes.Status400BadRequest, "M_INVALID_PARAM", message);
}
