using System.Text.RegularExpressions;
using HomeServer.Storage;

namespace HomeServer.Grains.Accounts;

/// <summary>What a display name, avatar URL or device name may be.</summary>
internal static partial class ProfileLimits
{
    public const int MaxDisplayNameLength = 256;

    public const int MaxDeviceDisplayNameLength = 100;

    /// <summary>Null stays null (cleared); anything else must be storable and at most <see cref="MaxDisplayNameLength"/> characters.</summary>
    public static string? RequireDisplayName(string? displayName) =>
        displayName is null || (displayName.Length <= MaxDisplayNameLength && AccountInput.IsText(displayName, StoreLimits.MaxDisplayNameBytes))
            ? displayName
            : throw MatrixRequestException.InvalidParam($"displayname must be at most {MaxDisplayNameLength} characters without NUL characters.");

    /// <summary>An avatar URL is an <c>mxc://server/media-id</c> URI.</summary>
    public static string? RequireAvatarUrl(string? avatarUrl) =>
        avatarUrl is null || (MxcUri().IsMatch(avatarUrl) && AccountInput.IsText(avatarUrl, StoreLimits.MaxUrlBytes))
            ? avatarUrl
            : throw MatrixRequestException.InvalidParam("avatar_url must be an mxc:// URI.");

    /// <summary>Null stays null; longer names are refused.</summary>
    public static string? RequireDeviceDisplayName(string? displayName) =>
        displayName is null || (displayName.Length <= MaxDeviceDisplayNameLength && AccountInput.IsText(displayName, StoreLimits.MaxDisplayNameBytes))
            ? displayName
            : throw MatrixRequestException.InvalidParam($"display_name must be at most {MaxDeviceDisplayNameLength} characters without NUL characters.");

    /// <summary>
    /// The name a client suggests for its new device at login is cut to the limit rather than failing the login;
    /// a name that cannot be stored at all is refused.
    /// </summary>
    public static string? TrimInitialDeviceDisplayName(string? displayName)
    {
        if (displayName is null) return null;
        var trimmed = displayName.Length <= MaxDeviceDisplayNameLength ? displayName : displayName[..MaxDeviceDisplayNameLength];
        if (trimmed.Length > 0 && char.IsHighSurrogate(trimmed[^1])) trimmed = trimmed[..^1];
        return RequireDeviceDisplayName(trimmed);
    }

    // mxc://<server-name>/<media-id>; media ids are [A-Za-z0-9_-]+ (spec appendix "Matrix Content (mxc://) URIs").
    [GeneratedRegex(@"^mxc://[A-Za-z0-9.:\[\]-]+/[A-Za-z0-9_-]+$")]
    private static partial Regex MxcUri();
}
