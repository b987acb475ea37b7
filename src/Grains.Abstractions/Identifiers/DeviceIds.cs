using System.Security.Cryptography;

namespace HomeServer.Grains.Identifiers;

/// <summary>Device IDs are opaque strings; the server chooses one when a client does not.</summary>
public static class DeviceIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int GeneratedLength = 10;

    /// <summary>Ten random upper-case letters (about 47 bits): URL-safe and easy to read out.</summary>
    public static string Generate() => RandomNumberGenerator.GetString(Alphabet, GeneratedLength);
}
