using System.Text.Json;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Tests.Events;

public sealed class ServerAclTests
{
    [Theory]
    [InlineData("evil.com")]
    [InlineData("evil.com:8448")]
    [InlineData("evil.com:1234")]
    [InlineData("EVIL.com")]
    [InlineData("sub.evil.com")]
    public void A_denied_host_is_denied_whatever_its_port_and_case(string server)
    {
        var content = Parse("""{"allow": ["*"], "deny": ["evil.com", "*.evil.com"]}""");

        Assert.False(ServerAcl.Allows(content, server));
    }

    [Theory]
    [InlineData("good.org", true)]
    [InlineData("good.org:8448", true)]
    [InlineData("notevil.com", true)]
    [InlineData("matrix.good.org", false)]
    [InlineData("good.organ", false)]
    public void Only_allowed_hosts_are_allowed(string server, bool allowed)
    {
        var content = Parse("""{"allow": ["good.org", "notevil.c?m"]}""");

        Assert.Equal(allowed, ServerAcl.Allows(content, server));
    }

    [Fact]
    public void Deny_wins_over_allow()
    {
        Assert.False(ServerAcl.Allows(Parse("""{"allow": ["evil.com"], "deny": ["evil.com"]}"""), "evil.com"));
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"deny": []}""")]
    [InlineData("""{"allow": "*"}""")]
    [InlineData("""{"allow": [1, true, null]}""")]
    [InlineData("""[]""")]
    public void Without_an_allow_list_of_strings_every_server_is_denied(string json)
    {
        Assert.False(ServerAcl.Allows(Parse(json), "good.org"));
    }

    [Theory]
    [InlineData("127.0.0.1:8448", """{"allow": ["*"], "allow_ip_literals": false}""", false)]
    [InlineData("[::1]:8448", """{"allow": ["*"], "allow_ip_literals": false}""", false)]
    [InlineData("127.0.0.1:8448", """{"allow": ["*"]}""", true)]
    [InlineData("127.0.0.1", """{"allow": ["*"], "allow_ip_literals": "false"}""", true)]
    [InlineData("[::1]", """{"allow": ["[::1]"]}""", true)]
    [InlineData("127.0.0.1:9000", """{"allow": ["*"], "deny": ["127.0.0.1"]}""", false)]
    [InlineData("1.example:8448", """{"allow": ["*"], "allow_ip_literals": false}""", true)]
    public void Ip_literals_are_denied_only_when_allow_ip_literals_is_false(string server, string json, bool allowed)
    {
        Assert.Equal(allowed, ServerAcl.Allows(Parse(json), server));
    }

    [Fact]
    public void A_room_without_an_acl_allows_every_server()
    {
        Assert.True(ServerAcl.Allows(new Dictionary<StateEventKey, Pdu>(), "anyone.example"));
    }

    [Theory]
    [InlineData("example.org:8448", "example.org")]
    [InlineData("example.org", "example.org")]
    [InlineData("[2001:db8::1]:8448", "[2001:db8::1]")]
    [InlineData("[2001:db8::1]", "[2001:db8::1]")]
    public void The_port_is_not_part_of_the_host(string server, string host)
    {
        Assert.Equal(host, ServerAcl.HostOf(server));
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;
}
