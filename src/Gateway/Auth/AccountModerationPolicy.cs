using System.Text.RegularExpressions;
using HomeServer.Gateway.Errors;
using HomeServer.Grains.Accounts;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Gateway.Auth;

/// <summary>
/// What a locked or suspended account may still do (client-server API, "Account locking" and "Account suspension").
/// A locked account gets 401 <c>M_USER_LOCKED</c> (a soft logout: the session comes back when unlocked) for everything
/// but logging out. A suspended account can read, leave rooms, redact, log out and manage its devices, but gets 403
/// <c>M_USER_SUSPENDED</c> for what would act on others: sending events and state, creating, joining, knocking on and
/// upgrading rooms, inviting, kicking, banning, changing its profile, creating aliases and uploading media.
/// Checked against the v3/v1 path, after the r0 rewrite.
/// </summary>
internal static partial class AccountModerationPolicy
{
    public static void RequireAllowed(HttpRequest request, Session session)
    {
        if (session.IsLocked && !IsLogout(request.Path))
        {
            throw new MatrixException(StatusCodes.Status401Unauthorized,
                new MatrixError("M_USER_LOCKED", "This account has been locked.") { SoftLogout = true });
        }
        if (session.IsSuspended && IsSuspendedAction(request.Method, request.Path.Value ?? ""))
            throw new MatrixException(StatusCodes.Status403Forbidden, "M_USER_SUSPENDED", "This account is suspended.");
    }

    private static bool IsLogout(PathString path) =>
        path.Equals("/_matrix/client/v3/logout") || path.Equals("/_matrix/client/v3/logout/all");

    private static bool IsSuspendedAction(string method, string path)
    {
        if (HttpMethods.IsPut(method))
        {
            var send = SendEvent().Match(path);
            if (send.Success) return !Uri.UnescapeDataString(send.Groups[1].Value).Equals("m.room.redaction", StringComparison.Ordinal);
            return StateEvent().IsMatch(path) || Profile().IsMatch(path) || Alias().IsMatch(path) || MediaUpload().IsMatch(path);
        }
        if (HttpMethods.IsDelete(method)) return Profile().IsMatch(path);
        return HttpMethods.IsPost(method) && (RoomAction().IsMatch(path) || MediaUpload().IsMatch(path));
    }

    [GeneratedRegex(@"^/_matrix/client/v3/rooms/[^/]+/send/([^/]+)/[^/]+$", RegexOptions.CultureInvariant)]
    private static partial Regex SendEvent();

    [GeneratedRegex(@"^/_matrix/client/v3/rooms/[^/]+/state/", RegexOptions.CultureInvariant)]
    private static partial Regex StateEvent();

    [GeneratedRegex(@"^/_matrix/client/v3/profile/[^/]+/[^/]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Profile();

    [GeneratedRegex(@"^/_matrix/client/v3/directory/room/[^/]+$", RegexOptions.CultureInvariant)]
    private static partial Regex Alias();

    [GeneratedRegex(@"^/_matrix/client/v3/(createRoom|join/[^/]+|knock/[^/]+|rooms/[^/]+/(join|invite|kick|ban|unban|upgrade))$", RegexOptions.CultureInvariant)]
    private static partial Regex RoomAction();

    [GeneratedRegex(@"^/_matrix/media/(v3/upload(/[^/]+/[^/]+)?|v1/create)$", RegexOptions.CultureInvariant)]
    private static partial Regex MediaUpload();
}
