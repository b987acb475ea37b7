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
    [InlineData("$:example.org")]
    [InlineData("$abc123:")]
    [InlineData("$abc 123:example.org")]
    [InlineData("$abc123:exa mple.org")]
    public void Rejects_anything_but_the_three_formats(string text) =>
        Assert.False(EventId.IsValid(text));

    [Theory]
    [InlineData("$abc123:example.org")] // v1, v2
    [InlineData("$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk")] // v3 (the spec's example)
    [InlineData("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg")] // v4+
    public void Accepts_the_formats_of_every_room_version(string text) =>
        Assert.True(EventId.IsValid(text));

    [Fact]
    public void V3_ids_are_standard_base64_and_refuse_a_mix_of_alphabets()
    {
        var hash = SHA256.HashData("some event"u8);
        var id = EventId.FromReferenceHashStandardBase64(hash);
        Assert.Equal("$" + Convert.ToBase64String(hash).TrimEnd('='), id.Value);
        Assert.Equal(id, EventId.Parse(id.Value));
        Assert.False(EventId.IsValid("$Rqnc+F/dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"));
    }

    [Fact]
    public void Opaque_ids_are_bounded_by_255_bytes()
    {
        Assert.Equal("$abc:example.org", EventId.Opaque("abc", "example.org").Value);
        Assert.False(EventId.IsValid("$" + new string('a', 250) + ":example.org"));
    }

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
    public void Knows_the_stable_versions_1_to_11()
    {
        Assert.Equal(Enumerable.Range(1, 11).Select(i => i.ToString()), RoomVersion.Supported.Select(v => v.Id));
        foreach (var version in RoomVersion.Supported)
        {
            Assert.True(RoomVersion.TryGet(version.Id, out var found));
            Assert.Same(version, found);
        }
        Assert.False(RoomVersion.TryGet("12", out _));
        Assert.False(RoomVersion.TryGet("01", out _));
        Assert.False(RoomVersion.TryGet(null, out _));
        Assert.False(RoomVersion.V10.CreatorIsSender || RoomVersion.V10.RedactsInContent || RoomVersion.V10.UsesV11RedactionRules);
        Assert.True(RoomVersion.V11.CreatorIsSender && RoomVersion.V11.RedactsInContent && RoomVersion.V11.UsesV11RedactionRules);
    }

    // Each switch against the version that introduced it, as the spec's room version pages list them.
    [Theory]
    [InlineData("1", "Opaque", true, false, false, false, false, false)]
    [InlineData("2", "Opaque", true, false, false, false, false, false)]
    [InlineData("3", "ReferenceHashBase64", true, false, false, false, false, false)]
    [InlineData("4", "ReferenceHashUrlSafe", true, false, false, false, false, false)]
    [InlineData("5", "ReferenceHashUrlSafe", true, false, false, false, false, false)]
    [InlineData("6", "ReferenceHashUrlSafe", false, true, false, false, false, false)]
    [InlineData("7", "ReferenceHashUrlSafe", false, true, true, false, false, false)]
    [InlineData("8", "ReferenceHashUrlSafe", false, true, true, true, false, false)]
    [InlineData("9", "ReferenceHashUrlSafe", false, true, true, true, true, false)]
    [InlineData("10", "ReferenceHashUrlSafe", false, true, true, true, true, true)]
    [InlineData("11", "ReferenceHashUrlSafe", false, true, true, true, true, true)]
    public void Each_version_has_its_rules(string id, string eventIds, bool aliases, bool strictJson, bool knock,
        bool restricted, bool joinAuthoriserKept, bool knockRestrictedAndIntegers)
    {
        Assert.True(RoomVersion.TryGet(id, out var version));
        Assert.Equal(Enum.Parse<EventIdFormat>(eventIds), version.EventIdFormat);
        Assert.Equal(version.EventIdFormat == EventIdFormat.Opaque, version.EventIdInEvent);
        Assert.Equal(aliases, version.SpecialCasesAliases);
        Assert.Equal(strictJson, version.StrictCanonicalJson);
        Assert.Equal(strictJson, version.LimitsNotificationsPowerLevels);
        Assert.Equal(knock, version.KnockJoinRule);
        Assert.Equal(restricted, version.RestrictedJoinRule);
        Assert.Equal(joinAuthoriserKept, version.RedactionKeepsJoinAuthoriser);
        Assert.Equal(knockRestrictedAndIntegers, version.KnockRestrictedJoinRule);
        Assert.Equal(knockRestrictedAndIntegers, version.IntegerOnlyPowerLevels);
        Assert.Equal(id == "11", version.CreatorIsSender);
    }
}
