using HomeServer.Silo.Configuration;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests;

public sealed class ListenUrlsTests
{
    [Theory]
    [InlineData("http://localhost:8008", true)]
    [InlineData("http://LOCALHOST:8008", true)]
    [InlineData("http://127.0.0.1:8008", true)]
    [InlineData("http://127.4.5.6:8008", true)]
    [InlineData("http://[::1]:8008", true)]
    [InlineData("http://0.0.0.0:8008", false)]
    [InlineData("http://[::]:8008", false)]
    [InlineData("http://*:8008", false)]
    [InlineData("http://+:8008", false)]
    [InlineData("http://192.168.1.10:8008", false)]
    [InlineData("http://matrix.example.org:8008", false)]
    [InlineData("http://unix:/run/homeserver.sock", false)]
    public void Loopback_means_only_this_machine_can_connect(string url, bool loopback)
    {
        Assert.Equal(loopback, ListenUrls.IsLoopback(BindingAddress.Parse(url)));
    }

    [Fact]
    public void Parse_splits_on_semicolons_and_ignores_blanks()
    {
        var urls = ListenUrls.Parse(" http://localhost:8008 ;; https://0.0.0.0:8448;");

        Assert.Equal(["http://localhost:8008", "https://0.0.0.0:8448"], urls.Select(u => u.ToString()));
    }

    [Fact]
    public void Registration_default_names_the_address_that_is_not_loopback()
    {
        var policy = RegistrationPolicy.Resolve(null, ListenUrls.Parse("http://localhost:8008;http://0.0.0.0:8009"));

        Assert.Equal(RegistrationMode.Disabled, policy.Mode);
        Assert.Contains("http://0.0.0.0:8009", policy.Reason);
    }

    [Theory]
    [InlineData("http://localhost:8008", "localhost", "http://localhost:8008")]
    [InlineData("http://127.0.0.1:80", "example.org", "http://127.0.0.1")]
    [InlineData("https://[::1]:443", "example.org", "https://[::1]")]
    [InlineData("http://0.0.0.0:8008", "example.org:8448", "http://example.org:8008")]
    [InlineData("http://*:8008;http://localhost:9000", "[2001:db8::1]:8448", "http://[2001:db8::1]:8008")]
    public void Public_base_url_defaults_to_the_first_listen_url(string urls, string serverName, string expected)
    {
        Assert.Equal(expected, PublicBaseUrlDefault.From(ListenUrls.Parse(urls), serverName));
    }

    [Fact]
    public void Public_base_url_has_no_default_for_a_socket()
    {
        Assert.Null(PublicBaseUrlDefault.From(ListenUrls.Parse("http://unix:/run/homeserver.sock"), "example.org"));
    }
}
