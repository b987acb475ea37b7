using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace HomeServer.Gateway.Overload;

/// <summary>The requests the in-flight bounds never count.</summary>
internal static class AdmissionExemptions
{
    private static readonly PathString Health = "/health";
    private static readonly PathString Versions = "/_matrix/client/versions";
    private static readonly PathString AdminMetrics = "/_homeserver/admin/metrics";
    private static readonly PathString PrometheusMetrics = "/_homeserver/metrics";
    private static readonly PathString[] Sync = ["/_matrix/client/v3/sync", "/_matrix/client/r0/sync"];
    private static readonly PathString[] Events = ["/_matrix/client/v3/events", "/_matrix/client/r0/events"];

    /// <summary>
    /// Health checks, metrics and <c>/versions</c> (cheap, and what load balancers, monitoring and clients need most when
    /// the server is busy), and long-polls, which mostly wait (<see cref="IsLongPoll"/>).
    /// </summary>
    public static bool IsExempt(HttpRequest request) =>
        request.Path.StartsWithSegments(Health) || request.Path.Equals(Versions) || request.Path.StartsWithSegments(AdminMetrics)
        || request.Path.StartsWithSegments(PrometheusMetrics) || IsLongPoll(request);

    /// <summary>
    /// An incremental <c>/sync</c> (with <c>since</c>) or a legacy <c>/events</c> with a <c>timeout</c>: it parks in the
    /// user's sync grain until something happens, and 5,000 idle clients each hold one. Their waiting is bounded per
    /// user by <c>InputLimits:MaxParkedSyncsPerUser</c> instead; an initial sync (no <c>since</c>) is counted, being all work.
    /// </summary>
    public static bool IsLongPoll(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) || !HasTimeout(request.Query["timeout"])) return false;
        if (Sync.Any(path => request.Path.Equals(path))) return request.Query["since"].ToString().Length > 0;
        return Events.Any(path => request.Path.Equals(path));
    }

    private static bool HasTimeout(StringValues timeout) =>
        long.TryParse(timeout.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds > 0;
}
