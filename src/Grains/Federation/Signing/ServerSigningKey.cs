using System.Security.Cryptography;
using NSec.Cryptography;

namespace HomeServer.Grains.Federation.Signing;

/// <summary>
/// An Ed25519 key of a server, held for the life of the process: the name it signs as, its key id (<c>ed25519:…</c>)
/// and the private key, which cannot be exported again from here.
/// </summary>
public sealed class ServerSigningKey : IDisposable
{
    public const string Algorithm = "ed25519";
    public const int SeedBytes = 32;

    private const string KeyVersionAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private readonly Key _key;

    private ServerSigningKey(string serverName, string keyId, Key key)
    {
        ServerName = serverName;
        KeyId = keyId;
        _key = key;
        PublicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    public string ServerName { get; }

    /// <summary>The full key id, such as <c>ed25519:a1B2c3D4</c>.</summary>
    public string KeyId { get; }

    /// <summary>The 32-byte Ed25519 public key.</summary>
    public byte[] PublicKey { get; }

    public string PublicKeyBase64 => UnpaddedBase64.Encode(PublicKey);

    /// <summary>The key whose private half is the 32-byte <paramref name="seed"/> (as stored, and as the spec's test vectors give it).</summary>
    public static ServerSigningKey FromSeed(string serverName, string keyId, ReadOnlySpan<byte> seed)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverName);
        if (!IsValidKeyId(keyId)) throw new ArgumentException($"'{keyId}' is not an ed25519 key id.", nameof(keyId));
        if (seed.Length != SeedBytes) throw new ArgumentException($"An Ed25519 seed is {SeedBytes} bytes.", nameof(seed));
        return new ServerSigningKey(serverName, keyId, Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey));
    }

    /// <summary>A fresh random seed and key id (<c>ed25519:</c> and 8 letters or digits) for a new key.</summary>
    public static (string KeyId, byte[] Seed) NewSeed() =>
        ($"{Algorithm}:{RandomNumberGenerator.GetString(KeyVersionAlphabet, 8)}", RandomNumberGenerator.GetBytes(SeedBytes));

    /// <summary>The public key of a seed, to store beside it.</summary>
    public static byte[] PublicKeyOf(ReadOnlySpan<byte> seed)
    {
        using var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }

    /// <summary>Key ids are the algorithm and a version of <c>[a-zA-Z0-9_]</c> characters.</summary>
    public static bool IsValidKeyId(string? keyId) =>
        keyId is not null && keyId.StartsWith(Algorithm + ":", StringComparison.Ordinal) && keyId.Length > Algorithm.Length + 1
        && !keyId.AsSpan(Algorithm.Length + 1).ContainsAnyExcept(VersionCharacters);

    public byte[] Sign(ReadOnlySpan<byte> data) => SignatureAlgorithm.Ed25519.Sign(_key, data);

    public void Dispose() => _key.Dispose();

    private static readonly System.Buffers.SearchValues<char> VersionCharacters =
        System.Buffers.SearchValues.Create(KeyVersionAlphabet + "_");
}
