using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Middleware;

/// <summary>
/// Serves the r0 API that older clients and bots still call (matrix-nio, for one): a request under
/// <c>/_matrix/client/r0/</c> or <c>/_matrix/media/r0/</c> is routed as its <c>v3</c> twin, unless the endpoint was
/// added to the spec after r0 (the spec's <c>x-addedInMatrixVersion</c>), which then stays unknown under r0. Endpoints
/// that exist only under <c>v1</c> are never reached from r0, because only r0 → v3 is rewritten. Runs before routing,
/// so every v3 endpoint gets its r0 path without declaring it.
/// </summary>
internal sealed class LegacyPathMiddleware(RequestDelegate next)
{
    private static readonly PathString ClientR0 = "/_matrix/client/r0";
    private static readonly PathString ClientV3 = "/_matrix/client/v3";
    private static readonly PathString MediaR0 = "/_matrix/media/r0";
    private static readonly PathString MediaV3 = "/_matrix/media/v3";

    // Paths below /_matrix/client/v3 that the spec marks as added after r0; "*" stands for one segment, a trailing
    // "**" for any rest of the path.
    private static readonly PathPattern[] ClientAddedAfterR0 =
    [
        new(null, "keys/device_signing/upload"),
        new(null, "keys/signatures/upload"),
        new(null, "room_keys/**"),
        new(null, "knock/*"),
        new(null, "refresh"),
        new(null, "login/sso/redirect"),
        new(null, "login/sso/redirect/*"),
        new(null, "rooms/*/report"),
        new(null, "users/*/report"),
        new(HttpMethods.Delete, "profile/*/*"),
    ];

    private static readonly PathPattern[] MediaAddedAfterR0 =
    [
        new(HttpMethods.Put, "upload/*/*"),
    ];

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments(ClientR0, out var rest))
        {
            if (!Matches(ClientAddedAfterR0, request.Method, rest)) request.Path = ClientV3.Add(rest);
        }
        else if (request.Path.StartsWithSegments(MediaR0, out rest))
        {
            if (!Matches(MediaAddedAfterR0, request.Method, rest)) request.Path = MediaV3.Add(rest);
        }
        return next(context);
    }

    private static bool Matches(PathPattern[] patterns, string method, PathString rest)
    {
        var segments = (rest.Value ?? "").Trim('/').Split('/');
        foreach (var pattern in patterns)
        {
            if (pattern.Method is not null && !HttpMethods.Equals(pattern.Method, method)) continue;
            if (pattern.Matches(segments)) return true;
        }
        return false;
    }

    private sealed class PathPattern(string? method, string pattern)
    {
        private readonly string[] _segments = pattern.Split('/');

        public string? Method { get; } = method;

        public bool Matches(string[] segments)
        {
            var anyRest = _segments[^1] == "**";
            var fixedCount = anyRest ? _segments.Length - 1 : _segments.Length;
            if (anyRest ? segments.Length < fixedCount : segments.Length != fixedCount) return false;
            for (var i = 0; i < fixedCount; i++)
            {
                if (_segments[i] != "*" && !string.Equals(_segments[i], segments[i], StringComparison.Ordinal)) return false;
            }
            return true;
        }
    }
}
