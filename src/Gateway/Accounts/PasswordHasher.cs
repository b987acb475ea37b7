using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Accounts;

/// <summary>
/// PBKDF2-HMAC-SHA512 password hashes, encoded as <c>pbkdf2-sha512$iterations$salt$hash</c> (base64 salt and hash),
/// so that each hash says how to check it. Hashing runs in the gateway, before any grain is called: it is
/// deliberately slow, and inside a user's grain it would hold up every other call to that user.
/// </summary>
public sealed class PasswordHasher : IDisposable
{
    public const int MaxIterations = 10_000_000;
    private const string Algorithm = "pbkdf2-sha512";
    private const int SaltBytes = 16;
    private const int HashBytes = 64;

    private readonly int _iterations;

    // At most one hash per core at a time: a burst of logins waits here instead of taking every thread-pool thread.
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount, Environment.ProcessorCount);

    // Checked instead when the user has no password, so that an unknown user takes as long as a wrong password.
    private readonly Lazy<string> _decoy;

    public PasswordHasher(IOptions<PasswordHashingOptions> options)
    {
        _iterations = options.Value.Iterations;
        _decoy = new Lazy<string>(() => Hash(RandomNumberGenerator.GetHexString(32), _iterations));
    }

    public async Task<string> HashAsync(string password, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return Hash(password, _iterations);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="encodedHash"/>; false for a null or unreadable hash.</summary>
    public async Task<bool> VerifyAsync(string password, string? encodedHash, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            var matches = Verify(password, encodedHash ?? _decoy.Value);
            return matches && encodedHash is not null;
        }
        finally
        {
            _slots.Release();
        }
    }

    public static string Hash(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, HashBytes);
        return string.Join('$', Algorithm, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    public static bool Verify(string password, string encodedHash)
    {
        var parts = encodedHash.Split('$');
        if (parts.Length != 4 || parts[0] != Algorithm
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations is < 1 or > MaxIterations)
            return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            expected = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        if (expected.Length == 0) return false;
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    public void Dispose() => _slots.Dispose();
}
