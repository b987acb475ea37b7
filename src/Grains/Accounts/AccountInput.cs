using System.Text;
using HomeServer.Storage;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// Checks of client-supplied values against what the store can hold, so that a bad value is refused with a
/// Matrix error before anything is written, instead of failing inside the store.
/// </summary>
internal static class AccountInput
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Device ids, account data types: 1 to 255 bytes of well-formed UTF-8 without NUL.</summary>
    public static bool IsIdentifier(string? value) => value is { Length: > 0 } && IsText(value, StoreLimits.MaxIdentifierBytes);

    /// <summary>Well-formed text without NUL, at most <paramref name="maxBytes"/> as UTF-8.</summary>
    public static bool IsText(string? value, int maxBytes)
    {
        if (value is null || value.Contains('\0')) return false;
        try
        {
            return StrictUtf8.GetByteCount(value) <= maxBytes;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    public static string RequireDeviceId(string? deviceId) =>
        IsIdentifier(deviceId)
            ? deviceId!
            : throw MatrixRequestException.InvalidParam("device_id must be 1 to 255 bytes of UTF-8 without NUL characters.");
}
