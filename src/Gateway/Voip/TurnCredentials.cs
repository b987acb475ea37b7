using System.Security.Cryptography;
using System.Text;

namespace HomeServer.Gateway.Voip;

/// <summary>
/// coturn's REST API credentials (its <c>use-auth-secret</c> mode): the username is the expiry time in Unix seconds
/// and the user id, <c>expiry:user</c>; the password is base64(HMAC-SHA1(secret, username)), which coturn recomputes.
/// </summary>
public static class TurnCredentials
{
    public static (string Username, string Password) Create(string sharedSecret, string userId, DateTimeOffset expires)
    {
        var username = $"{expires.ToUnixTimeSeconds()}:{userId}";
        var mac = HMACSHA1.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.UTF8.GetBytes(username));
        return (username, Convert.ToBase64String(mac));
    }
}
