using System.Security.Cryptography;

namespace HomeServer.Grains.Accounts;

/// <summary>
/// Guest accounts get purely numeric localparts, as in Synapse, which also reserves such localparts for guests: a
/// full account may not register one, so a numeric localpart is the mark of a (possibly upgraded) guest.
/// </summary>
public static class GuestUserIds
{
    // Synapse counts guests up from 1; random digits need no shared counter across silos, and 12 make collisions rare.
    private const int GeneratedLength = 12;

    public static bool IsGuestLocalpart(string localpart) => localpart.Length > 0 && localpart.All(char.IsAsciiDigit);

    /// <summary>A fresh numeric localpart (never starting with 0, so it reads as the number it is).</summary>
    public static string NewLocalpart() =>
        RandomNumberGenerator.GetString("123456789", 1) + RandomNumberGenerator.GetString("0123456789", GeneratedLength - 1);
}
