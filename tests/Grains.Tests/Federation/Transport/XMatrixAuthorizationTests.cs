using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;

namespace HomeServer.Grains.Tests.Federation.Transport;

public sealed class XMatrixAuthorizationTests
{
    [Theory]
    [InlineData("X-Matrix origin=\"origin.example\",destination=\"dest.example\",key=\"ed25519:key1\",sig=\"ABC/+d\"")]
    [InlineData("X-Matrix   origin=origin.example , destination=dest.example,\tkey=ed25519:key1 ,sig=\"ABC/+d\"")]
    [InlineData("x-matrix ORIGIN=\"origin.example\",Destination=\"dest.example\",KEY=\"ed25519:key1\",Sig=\"ABC/+d\"")]
    [InlineData("X-Matrix sig=\"ABC/+d\",key=\"ed25519:key1\",unknown=\"ignored\",destination=\"dest.example\",origin=\"origin.example\"")]
    [InlineData("X-Matrix origin=\"origin\\.example\",destination=\"dest.example\",key=\"ed25519:key1\",sig=\"ABC/+d\"")]
    public void Headers_in_every_allowed_form_parse_to_the_same_parameters(string header)
    {
        Assert.True(XMatrixAuthorization.TryParse(header, out var parsed));
        Assert.Equal(new XMatrixAuthorization("origin.example", "dest.example", "ed25519:key1", "ABC/+d"), parsed);
    }

    [Fact]
    public void Destination_may_be_missing_for_older_servers()
    {
        Assert.True(XMatrixAuthorization.TryParse("X-Matrix origin=origin.example:8448,key=\"ed25519:k\",sig=\"s\"", out var parsed));
        Assert.Equal(new XMatrixAuthorization("origin.example:8448", null, "ed25519:k", "s"), parsed);
    }

    [Theory]
    [InlineData("Bearer abc")]
    [InlineData("X-Matrix")]
    [InlineData("X-Matrix origin=\"o\",key=\"ed25519:k\"")]
    [InlineData("X-Matrix origin=\"o\",key=\"ed25519:k\",sig=\"unterminated")]
    [InlineData("X-Matrix origin=\"o\",origin=\"p\",key=\"ed25519:k\",sig=\"s\"")]
    [InlineData("X-Matrix origin=\"o\" key=\"ed25519:k\",sig=\"s\"")]
    [InlineData("X-Matrix origin=o/p,key=\"ed25519:k\",sig=\"s\"")]
    [InlineData("X-Matrixorigin=\"o\",key=\"ed25519:k\",sig=\"s\"")]
    public void Malformed_headers_do_not_parse(string header)
    {
        Assert.False(XMatrixAuthorization.TryParse(header, out _));
    }

    [Fact]
    public void Format_writes_what_parse_reads()
    {
        var authorization = new XMatrixAuthorization("a.example:8448", "b.example", "ed25519:k1", "c2lnbmF0dXJl");

        Assert.Equal("X-Matrix origin=\"a.example:8448\",destination=\"b.example\",key=\"ed25519:k1\",sig=\"c2lnbmF0dXJl\"", authorization.Format());
        Assert.True(XMatrixAuthorization.TryParse(authorization.Format(), out var parsed));
        Assert.Equal(authorization, parsed);
    }

    [Fact]
    public void A_signed_request_verifies_and_any_change_to_what_was_signed_does_not()
    {
        var key = TestSigningKeys.For("origin.example");
        var content = JsonNode.Parse("""{"edus":[],"pdus":[{"n":1}]}""");
        var header = RequestSigning.AuthorizationHeader(key, "dest.example", "PUT", "/_matrix/federation/v1/send/1?x=%40a", content);
        Assert.True(XMatrixAuthorization.TryParse(header, out var authorization));

        Assert.True(RequestSigning.Verify(authorization, "PUT", "/_matrix/federation/v1/send/1?x=%40a", "dest.example", content, key.PublicKey));
        Assert.False(RequestSigning.Verify(authorization, "POST", "/_matrix/federation/v1/send/1?x=%40a", "dest.example", content, key.PublicKey));
        Assert.False(RequestSigning.Verify(authorization, "PUT", "/_matrix/federation/v1/send/2?x=%40a", "dest.example", content, key.PublicKey));
        Assert.False(RequestSigning.Verify(authorization, "PUT", "/_matrix/federation/v1/send/1?x=%40a", "other.example", content, key.PublicKey));
        Assert.False(RequestSigning.Verify(authorization, "PUT", "/_matrix/federation/v1/send/1?x=%40a", "dest.example",
            JsonNode.Parse("""{"edus":[],"pdus":[{"n":2}]}"""), key.PublicKey));
        Assert.False(RequestSigning.Verify(authorization, "PUT", "/_matrix/federation/v1/send/1?x=%40a", "dest.example", null, key.PublicKey));
        Assert.False(RequestSigning.Verify(authorization, "PUT", "/_matrix/federation/v1/send/1?x=%40a", "dest.example", content,
            TestSigningKeys.For("other.example").PublicKey));
    }

    [Fact]
    public void The_signature_is_the_spec_signing_of_method_uri_origin_destination_and_content()
    {
        var key = TestSigningKeys.For("origin.example");
        var header = RequestSigning.AuthorizationHeader(key, "dest.example", "GET", "/_matrix/federation/v1/query/profile?user_id=%40a%3Ab", null);
        Assert.True(XMatrixAuthorization.TryParse(header, out var authorization));

        // Built by hand, as the spec's example does: no content key for a request without a body.
        var signed = new JsonObject
        {
            ["destination"] = "dest.example",
            ["method"] = "GET",
            ["origin"] = "origin.example",
            ["uri"] = "/_matrix/federation/v1/query/profile?user_id=%40a%3Ab",
        };
        Assert.Equal(JsonSigning.ComputeSignature(signed, key), authorization.Signature);
    }
}
