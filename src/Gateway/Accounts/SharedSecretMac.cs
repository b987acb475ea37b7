using System.Security.Cryptography;
using System.Text;

namespace HomeServer.Gateway.Accounts;

/// <summary>
/// The MAC of Synapse's shared-secret registration: hex HMAC-SHA1, keyed with the shared secret, over
/// nonce NUL username NUL password NUL ("admin" | "notadmin"). Tools such as register_new_matrix_user compute it.
/// </summary>
internal static class SharedSecretMac
{
    public static string Compute(string sharedSecret, string nonce, string username, string password, bool admin)
    {
        var message = string.Join('\0', nonce, username, password, admin ? "admin" : "notadmin");
        var mac = HMACSHA1.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.UTF8.GetBytes(message));
        return Convert.ToHexStringLower(mac);
    }

    public static bool Matches(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(given));
}
