using System.Text.RegularExpressions;
using HomeServer.Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Auth;

/// <summary>
/// The endpoints a guest account may call (the Guest Access module's lists); any other authenticated request of a
/// guest answers 403 M_GUEST_ACCESS_FORBIDDEN. Paths are matched after <c>/_matrix/client/{version}</c>.
/// </summary>
internal static partial class GuestAccessPolicy
{
    private static readonly (string Method, Regex Path)[] Allowed =
    [
        // Retrieving events.
        ("GET", Path(@"rooms/[^/]+/state(/.*)?")),
        ("GET", Path(@"rooms/[^/]+/context/[^/]+")),
        ("GET", Path(@"rooms/[^/]+/event/[^/]+")),
        ("GET", Path(@"rooms/[^/]+/messages")),
        ("GET", Path(@"rooms/[^/]+/members")),
        ("GET", Path(@"rooms/[^/]+/initialSync")),
        ("GET", Path(@"sync")),
        ("GET", Path(@"events")),
        // Sending events. POST /join/{roomIdOrAlias} is not in the spec's list but Synapse allows it to guests, and
        // a client that knows a room by its alias needs it.
        ("POST", Path(@"rooms/[^/]+/join")),
        ("POST", Path(@"join/[^/]+")),
        ("POST", Path(@"rooms/[^/]+/leave")),
        ("PUT", Path(@"rooms/[^/]+/send/[^/]+/[^/]+")),
        ("PUT", Path(@"rooms/[^/]+/state/.+")),
        ("PUT", Path(@"sendToDevice/[^/]+/[^/]+")),
        // Presence.
        ("GET", Path(@"presence/[^/]+/status")),
        ("PUT", Path(@"presence/[^/]+/status")),
        // Account maintenance.
        ("PUT", Path(@"profile/[^/]+/displayname")),
        ("GET", Path(@"devices")),
        ("GET", Path(@"devices/[^/]+")),
        ("PUT", Path(@"devices/[^/]+")),
        ("GET", Path(@"account/whoami")),
        // End-to-end encryption.
        ("POST", Path(@"keys/(upload|query|claim)")),
        // Not in the spec's lists, but allowed to guests by Synapse and used by clients of guests (filters for
        // /sync, read receipts and markers, typing, settings in account data, push rules, the room directory,
        // profiles, capabilities, TURN servers).
        ("GET", Path(@"user/[^/]+/filter/[^/]+")),
        ("POST", Path(@"user/[^/]+/filter")),
        ("POST", Path(@"rooms/[^/]+/receipt/[^/]+/[^/]+")),
        ("POST", Path(@"rooms/[^/]+/read_markers")),
        ("PUT", Path(@"rooms/[^/]+/typing/[^/]+")),
        ("GET", Path(@"user/[^/]+/(rooms/[^/]+/)?account_data/[^/]+")),
        ("PUT", Path(@"user/[^/]+/(rooms/[^/]+/)?account_data/[^/]+")),
        ("GET", Path(@"pushrules/.*")),
        ("GET", Path(@"publicRooms")),
        ("POST", Path(@"publicRooms")),
        ("GET", Path(@"profile/[^/]+(/[^/]+)?")),
        ("GET", Path(@"capabilities")),
        ("GET", Path(@"voip/turnServer")),
    ];

    /// <summary>403 M_GUEST_ACCESS_FORBIDDEN unless a guest may make this request.</summary>
    public static void RequireAllowed(HttpRequest request)
    {
        var path = ClientApiPath().Match(request.Path.Value ?? "");
        var method = request.Method == HttpMethods.Head ? "GET" : request.Method;
        if (path.Success && Allowed.Any(rule => rule.Method == method && rule.Path.IsMatch(path.Groups[1].Value))) return;
        throw new MatrixException(StatusCodes.Status403Forbidden, "M_GUEST_ACCESS_FORBIDDEN", "Guest accounts may not do this.");
    }

    private static Regex Path(string pattern) => new($"^{pattern}$", RegexOptions.CultureInvariant);

    [GeneratedRegex("^/_matrix/client/(?:v1|v3|r0)/(.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ClientApiPath();
}
