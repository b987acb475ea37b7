using System.Net;
using HomeServer.Grains.Federation.Transport;

namespace HomeServer.Grains.Tests.Federation.Transport;

public sealed class OutboundAddressRulesTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Non_public_addresses_are_refused_unless_allowed(string address)
    {
        Assert.False(OutboundAddressRules.IsAllowed(IPAddress.Parse(address), allowPrivateAddresses: false));
        Assert.True(OutboundAddressRules.IsAllowed(IPAddress.Parse(address), allowPrivateAddresses: true));
    }

    [Theory]
    [InlineData("1.1.1.1")]
    [InlineData("93.184.216.34")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_allowed(string address)
    {
        Assert.True(OutboundAddressRules.IsAllowed(IPAddress.Parse(address), allowPrivateAddresses: false));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("localhost")]
    public async Task The_handler_refuses_to_connect_to_a_private_address_or_a_name_resolving_to_one(string host)
    {
        using var client = new HttpClient(FederationHttpHandler.Create(new FederationTransportOptions()));

        var exception = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync($"https://{host}:8448/_matrix/key/v2/server"));

        Assert.IsType<OutboundAddressRefusedException>(exception.InnerException);
    }
}
