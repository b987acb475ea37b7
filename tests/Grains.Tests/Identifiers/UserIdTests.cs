using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Tests.Identifiers;

public class UserIdTests
{
    [Theory]
    [InlineData("@alice:example.org", "alice", "example.org")]
    [InlineData("@a.b_c=d-e/f+g9:example.org:8448", "a.b_c=d-e/f+g9", "example.org:8448")]
    [InlineData("@bob:[::1]:80", "bob", "[::1]:80")]
    public void Parses_compliant_ids(string text, string localpart, string server)
    {
        var id = UserId.Parse(text);
        Assert.Equal(localpart, id.Localpart);
        Assert.Equal(server, id.Server.Value);
        Assert.Equal(text, id.ToString());
        Assert.True(id.IsCompliant);
    }

    [Theory]
    [InlineData("@Alice:example.org")]
    [InlineData("@al ice:example.org")]
    [InlineData("@ünïcode:example.org")]
    [InlineData("@:example.org")]
    [InlineData("@a\u0001b:example.org")]
    public void Accepts_historical_localparts_but_marks_them_non_compliant(string text)
    {
        Assert.True(UserId.TryParse(text, out var id));
        Assert.False(id.IsCompliant);
    }

    [Theory]
    [InlineData("")]
    [InlineData("alice:example.org")]
    [InlineData("#alice:example.org")]
    [InlineData("@alice")]
    [InlineData("@alice:")]
    [InlineData("@alice:bad_server")]
    [InlineData("@al\0ice:example.org")]
    public void Rejects_malformed_ids(string text)
    {
        Assert.False(UserId.TryParse(text, out _));
        Assert.Throws<FormatException>(() => UserId.Parse(text));
    }

    [Fact]
    public void Rejects_unpaired_surrogates_which_cannot_be_utf8()
    {
        // Built at run time: attribute arguments cannot carry an unpaired surrogate.
        Assert.False(UserId.IsValid("@a" + '\ud800' + ":example.org"));
        Assert.False(UserId.IsValid("@a" + '\udc00' + "b:example.org"));
        Assert.True(UserId.IsValid("@a\ud83d\ude00:example.org"));
    }

    [Fact]
    public void Splits_at_the_first_colon_so_the_port_stays_with_the_server()
    {
        var id = UserId.Parse("@alice:example.org:8448");
        Assert.Equal("alice", id.Localpart);
        Assert.Equal(8448, id.Server.Port);
    }

    [Fact]
    public void Limits_total_length_to_255_bytes()
    {
        var server = "example.org";
        var fits = "@" + new string('a', 255 - 1 - 1 - server.Length) + ":" + server;
        Assert.Equal(255, fits.Length);
        Assert.True(UserId.IsValid(fits));
        Assert.False(UserId.IsValid("@a" + fits[1..]));
    }

    [Fact]
    public void Counts_length_in_utf8_bytes_not_characters()
    {
        // 'é' is two bytes: 1 + 120*2 + 1 + 11 = 253 fits, 122 of them (257 bytes) does not.
        Assert.True(UserId.IsValid("@" + new string('é', 121) + ":example.org"));
        Assert.False(UserId.IsValid("@" + new string('é', 122) + ":example.org"));
    }

    [Theory]
    [InlineData("alice", true)]
    [InlineData("a.b_c=d-e/f+0", true)]
    [InlineData("", false)]
    [InlineData("Alice", false)]
    [InlineData("ali ce", false)]
    [InlineData("al:ice", false)]
    [InlineData("al#ice", false)]
    [InlineData("élise", false)]
    public void Strict_localpart_grammar_for_registration(string localpart, bool valid)
    {
        Assert.Equal(valid, UserId.IsValidLocalpart(localpart));
        var server = ServerName.Parse("example.org");
        Assert.Equal(valid, UserId.TryCreate(localpart, server, out var id));
        if (valid)
            Assert.Equal($"@{localpart}:example.org", id!.Value);
        else
            Assert.Throws<ArgumentException>(() => UserId.Create(localpart, server));
    }

    [Fact]
    public void Create_refuses_ids_over_255_bytes_even_with_a_valid_localpart()
    {
        Assert.False(UserId.TryCreate(new string('a', 250), ServerName.Parse("example.org"), out _));
    }

    [Fact]
    public void Has_value_equality()
    {
        Assert.Equal(UserId.Parse("@a:b.c"), UserId.Parse("@a:b.c"));
        Assert.NotEqual(UserId.Parse("@a:b.c"), UserId.Parse("@a:B.c"));
    }
}
