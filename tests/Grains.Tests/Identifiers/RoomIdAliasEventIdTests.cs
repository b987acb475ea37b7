using System.Security.Cryptography;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Identifiers;

public class RoomIdTests
{
    [Theory]
    [InlineData("!abc123:example.org", "abc123")]
    [InlineData("!Ab-C_ü:example.org:8448", "Ab-C_ü")]
    public void Parses_valid_ids(string text, string opaque)
    {
        var id = RoomId.Parse(text);
        Assert.Equal(opaque, id.OpaqueId);
        Assert.Equal(text, id.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc:example.org")]
    [InlineData("!:example.org")]
    [InlineData("!abc")]
    [InlineData("!abc:")]
    [InlineData("!a\0bc:example.org")]
    [InlineData("!abc:exa mple.org")]
    public void Rejects_invalid_ids(string text) => Assert.False(RoomId.IsValid(text));

    [Fact]
    public void Rejects_ids_over_255_bytes()
    {
        Assert.True(RoomId.IsValid("!" + new string('a', 254 - ":x".Length) + ":x"));
        Assert.False(RoomId.IsValid("!" + new string('a', 255 - ":x".Length) + ":x"));
    }

    [Fact]
    public void Generates_unique_alphanumeric_ids_on_the_given_server()
    {
        var server = ServerName.Parse("example.org:8448");
        var ids = Enumerable.Range(0, 200).Select(_ => RoomId.Generate(server)).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id =>
        {
            Assert.Equal(server, id.Server);
            Assert.Equal(18, id.OpaqueId.Length);
            Assert.True(id.OpaqueId.All(char.IsAsciiLetterOrDigit));
        });
    }
}

public class RoomAliasTests
{
    [Theory]
    [InlineData("#room:example.org", "room")]
    [InlineData("#Ünïcödé room!:example.org", "Ünïcödé room!")]
    public void Parses_valid_aliases(string text, string alias) => Assert.Equal(alias, RoomAlias.Parse(text).Alias);

    [Theory]
    [InlineData("#:example.org")]
    [InlineData("room:example.org")]
    [InlineData("#room")]
    [InlineData("#room:")]
    [InlineData("#ro\0om:example.org")]
    [InlineData("!room:example.org")]
    public void Rejects_invalid_aliases(string text) => Assert.False(RoomAlias.IsValid(text));
}

public class EventIdTests
{
    [Fact]
    public void Accepts_the_spec_example()
    {
        Assert.True(EventId.IsValid("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("$")]
    [InlineData("Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg")]
    [InlineData("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Z")]
    [InlineData("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zgg")]
    [InlineData("$Rqnc+F/dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg")]
    [InlineData("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Z=")]
    [InlineData("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zh")]
    [InlineData("$Rqnc F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg")]
    [InlineData("$abc123:example.org")]
    public void Rejects_anything_but_43_char_url_safe_base64_of_32_bytes(string text) =>
        Assert.False(EventId.IsValid(text));

    [Fact]
    public void Round_trips_reference_hashes()
    {
        var hash = SHA256.HashData("some event"u8);
        var id = EventId.FromReferenceHash(hash);
        var expected = "$" + Convert.ToBase64String(hash).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, id.Value);
        Assert.Equal(id, EventId.Parse(id.Value));
    }

    [Fact]
    public void Refuses_hashes_of_the_wrong_length() =>
        Assert.Throws<ArgumentException>(() => EventId.FromReferenceHash(new byte[31]));
}

public class DeviceIdsTests
{
    [Fact]
    public void Generates_distinct_url_safe_ids()
    {
        var ids = Enumerable.Range(0, 200).Select(_ => DeviceIds.Generate()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id =>
        {
            Assert.Equal(10, id.Length);
            Assert.Equal(id, Uri.EscapeDataString(id));
        });
    }
}

public class RoomVersionTests
{
    [Fact]
    public void Knows_versions_10_and_11_only()
    {
        Assert.True(RoomVersion.TryGet("10", out var v10));
        Assert.Same(RoomVersion.V10, v10);
        Assert.True(RoomVersion.TryGet("11", out var v11));
        Assert.Same(RoomVersion.V11, v11);
        Assert.False(RoomVersion.TryGet("9", out _));
        Assert.False(RoomVersion.TryGet(null, out _));
        Assert.False(v10.CreatorIsSender || v10.RedactsInContent || v10.UsesV11RedactionRules);
        Assert.True(v11.CreatorIsSender && v11.RedactsInContent && v11.UsesV11RedactionRules);
    }
}
