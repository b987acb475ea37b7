using HomeServer.Gateway.Accounts;

namespace HomeServer.Server.Tests.Accounts;

public sealed class SharedSecretMacTests
{
    // Computed with Python's hmac and hashlib, as Synapse does.
    [Theory]
    [InlineData(true, "a750236d1acd7e304a9049f0d73c75794edb23bf")]
    [InlineData(false, "94f964606932aa0dd29c0657b740099b3321023d")]
    public void Mac_matches_synapse(bool admin, string expected)
    {
        Assert.Equal(expected, SharedSecretMac.Compute("shared-secret", "abc123", "alice", "päss", admin));
    }

    [Fact]
    public void Matching_is_exact()
    {
        var mac = SharedSecretMac.Compute("s", "n", "u", "p", admin: false);

        Assert.True(SharedSecretMac.Matches(mac, mac));
        Assert.False(SharedSecretMac.Matches(mac, mac.ToUpperInvariant()));
        Assert.False(SharedSecretMac.Matches(mac, mac[..^1]));
        Assert.False(SharedSecretMac.Matches(mac, ""));
    }
}
