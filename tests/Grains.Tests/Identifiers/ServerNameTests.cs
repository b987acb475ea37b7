using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Identifiers;

public class ServerNameTests
{
    [Theory]
    [InlineData("matrix.org", "matrix.org", null)]
    [InlineData("matrix.org:8888", "matrix.org", 8888)]
    [InlineData("1.2.3.4", "1.2.3.4", null)]
    [InlineData("1.2.3.4:1234", "1.2.3.4", 1234)]
    [InlineData("[1234:5678::abcd]", "[1234:5678::abcd]", null)]
    [InlineData("[1234:5678::abcd]:5678", "[1234:5678::abcd]", 5678)]
    [InlineData("[::1]", "[::1]", null)]
    [InlineData("[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]", 80)]
    [InlineData("localhost", "localhost", null)]
    [InlineData("Example-Host.ORG", "Example-Host.ORG", null)]
    [InlineData("x:1", "x", 1)]
    [InlineData("x:99999", "x", 99999)]
    public void Accepts_spec_examples_and_variants(string text, string host, int? port)
    {
        Assert.True(ServerName.TryParse(text, out var name));
        Assert.Equal(text, name.Value);
        Assert.Equal(host, name.Host);
        Assert.Equal(port, name.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData(":8448")]
    [InlineData("matrix.org:")]
    [InlineData("matrix.org:123456")]
    [InlineData("matrix.org:12a")]
    [InlineData("matrix.org:8448:1")]
    [InlineData("under_score.org")]
    [InlineData("spa ce.org")]
    [InlineData("exämple.org")]
    [InlineData("256.1.1.1")]
    [InlineData("1.2.3.999:80")]
    [InlineData("[1234:5678::abcd")]
    [InlineData("1234:5678::abcd")]
    [InlineData("[]")]
    [InlineData("[g::1]")]
    [InlineData("[1:2:3]")]
    [InlineData("[::1]8080")]
    [InlineData("[::1]:")]
    public void Rejects_malformed_names(string text)
    {
        Assert.False(ServerName.TryParse(text, out _));
        Assert.Throws<FormatException>(() => ServerName.Parse(text));
    }

    [Fact]
    public void Rejects_dns_names_longer_than_255_characters()
    {
        Assert.True(ServerName.IsValid(new string('a', 255)));
        Assert.False(ServerName.IsValid(new string('a', 256)));
    }

    [Fact]
    public void Is_case_sensitive()
    {
        Assert.NotEqual(ServerName.Parse("matrix.org"), ServerName.Parse("MATRIX.ORG"));
        Assert.Equal(ServerName.Parse("matrix.org"), ServerName.Parse("matrix.org"));
    }
}
