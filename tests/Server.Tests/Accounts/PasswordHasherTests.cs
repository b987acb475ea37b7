using HomeServer.Gateway.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace HomeServer.Server.Tests.Accounts;

public sealed class PasswordHasherTests
{
    [Fact]
    public async Task The_default_is_pbkdf2_sha512_with_210000_iterations_and_a_16_byte_salt()
    {
        using var hasher = new PasswordHasher(Options.Create(new PasswordHashingOptions()));

        var hash = await hasher.HashAsync("secret", CancellationToken.None);

        var parts = hash.Split('$');
        Assert.Equal("pbkdf2-sha512", parts[0]);
        Assert.Equal("210000", parts[1]);
        Assert.Equal(16, Convert.FromBase64String(parts[2]).Length);
        Assert.Equal(64, Convert.FromBase64String(parts[3]).Length);
        Assert.True(await hasher.VerifyAsync("secret", hash, CancellationToken.None));
        Assert.False(await hasher.VerifyAsync("Secret", hash, CancellationToken.None));
    }

    [Fact]
    public void Each_hash_has_its_own_salt()
    {
        Assert.NotEqual(PasswordHasher.Hash("same", 10), PasswordHasher.Hash("same", 10));
    }

    [Fact]
    public void A_hash_is_checked_with_the_iterations_it_records()
    {
        var hash = PasswordHasher.Hash("pässwörd", 1234);

        Assert.True(PasswordHasher.Verify("pässwörd", hash));
        Assert.False(PasswordHasher.Verify("passwort", hash));
        Assert.False(PasswordHasher.Verify("pässwörd", hash.Replace("$1234$", "$1235$")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("plain text")]
    [InlineData("bcrypt$10$c2FsdA==$aGFzaA==")]
    [InlineData("pbkdf2-sha512$0$c2FsdA==$aGFzaA==")]
    [InlineData("pbkdf2-sha512$-5$c2FsdA==$aGFzaA==")]
    [InlineData("pbkdf2-sha512$99999999$c2FsdA==$aGFzaA==")]
    [InlineData("pbkdf2-sha512$10$not base64$aGFzaA==")]
    [InlineData("pbkdf2-sha512$10$c2FsdA==$")]
    [InlineData("pbkdf2-sha512$10$c2FsdA==$aGFzaA==$extra")]
    public void Unreadable_hashes_never_match(string hash)
    {
        Assert.False(PasswordHasher.Verify("anything", hash));
    }

    [Fact]
    public async Task Without_a_hash_nothing_matches()
    {
        using var hasher = new PasswordHasher(Options.Create(new PasswordHashingOptions { Iterations = 10 }));

        Assert.False(await hasher.VerifyAsync("", null, CancellationToken.None));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("20000000")]
    public void Invalid_iteration_counts_stop_the_server(string iterations)
    {
        var failures = BuiltServer.ConfigurationFailures($"--PasswordHashing:Iterations={iterations}");

        Assert.Contains(failures, failure => failure.StartsWith("PasswordHashing:Iterations must be between 1 and", StringComparison.Ordinal));
    }
}
