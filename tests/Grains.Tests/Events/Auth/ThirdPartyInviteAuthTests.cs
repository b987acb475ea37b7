using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using static HomeServer.Grains.Tests.Events.Auth.TestRoom;

namespace HomeServer.Grains.Tests.Events.Auth;

/// <summary>Rule 4.4.1: an invite made from a third-party invite, vouched for by the identity server's signature.</summary>
public class ThirdPartyInviteAuthTests
{
    private const string Token = "tok3n";
    private static readonly ServerSigningKey IdentityKey = KeyOf("ed25519:0", "identity");
    private static readonly ServerSigningKey OtherKey = KeyOf("ed25519:1", "other");

    private static ServerSigningKey KeyOf(string keyId, string seed) =>
        ServerSigningKey.FromSeed("id.example.net", keyId, SHA256.HashData(Encoding.UTF8.GetBytes(seed)));

    /// <summary>Alice's room (invite level 0) with Alice's pending third-party invite for <see cref="Token"/>.</summary>
    private static TestRoom RoomWithPendingInvite(string version, string? keysContent = null)
    {
        var room = Create(version);
        room.Send(Alice, EventTypes.ThirdPartyInvite, Token, keysContent ?? $$"""
            {
                "display_name": "d...@example.com",
                "key_validity_url": "https://id.example.net/_matrix/identity/v2/pubkey/isvalid",
                "public_key": "{{IdentityKey.PublicKeyBase64}}"
            }
            """);
        return room;
    }

    private static string Signed(string mxid, string token = Token, ServerSigningKey? key = null)
    {
        var signed = new JsonObject { ["mxid"] = mxid, ["token"] = token };
        JsonSigning.Sign(signed, key ?? IdentityKey);
        return signed.ToJsonString();
    }

    private static string ThirdPartyInvite(string signed) =>
        $$""" "third_party_invite": { "display_name": "d...@example.com", "signed": {{signed}} } """;

    [Theory]
    [InlineData("1")]
    [InlineData("6")]
    [InlineData("10")]
    [InlineData("11")]
    public void An_invite_signed_by_the_identity_server_is_allowed(string version)
    {
        var room = RoomWithPendingInvite(version);
        AuthAssert.Allowed(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value))));
    }

    [Fact]
    public void A_key_of_public_keys_is_enough()
    {
        var room = RoomWithPendingInvite("11", $$"""
            {
                "display_name": "d", "key_validity_url": "https://id.example.net/isvalid",
                "public_key": "{{IdentityKey.PublicKeyBase64}}",
                "public_keys": [ { "public_key": "{{OtherKey.PublicKeyBase64}}", "key_validity_url": "https://id.example.net/isvalid" } ]
            }
            """);
        AuthAssert.Allowed(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value, key: OtherKey))));
    }

    [Fact]
    public void The_power_to_invite_is_not_needed_but_the_sender_of_the_third_party_invite_is()
    {
        var room = RoomWithPendingInvite("11");
        // Carol never joined: without a third_party_invite she could not invite; with Alice's token she still cannot.
        AuthAssert.Rejected(room.CheckMembership(Carol, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value))),
            "did not send the m.room.third_party_invite");
        // Alice's own invite is allowed even were she not joined any more: the signature vouches for it.
        room.SetMembership(Alice, Membership.Leave);
        AuthAssert.Allowed(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value))));
    }

    [Fact]
    public void A_banned_target_is_refused()
    {
        var room = RoomWithPendingInvite("11");
        room.SetMembership(Dave, Membership.Ban, Alice);
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value))), "banned");
    }

    [Theory]
    [InlineData("""{ "display_name": "d" }""", "no signed object")]
    [InlineData("""{ "display_name": "d", "signed": "x" }""", "no signed object")]
    [InlineData("""{ "display_name": "d", "signed": { "token": "tok3n", "signatures": {} } }""", "mxid and token")]
    [InlineData("""{ "display_name": "d", "signed": { "mxid": "@dave:example.org", "signatures": {} } }""", "mxid and token")]
    [InlineData("\"x\"", "no signed object")]
    public void Malformed_third_party_invites_are_refused(string thirdPartyInvite, string reason)
    {
        var room = RoomWithPendingInvite("11");
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, $"\"third_party_invite\": {thirdPartyInvite}"), reason);
    }

    [Fact]
    public void The_mxid_must_be_the_invited_user()
    {
        var room = RoomWithPendingInvite("11");
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Carol.Value))), "not the invited user");
    }

    [Fact]
    public void The_token_must_name_a_pending_third_party_invite()
    {
        var room = RoomWithPendingInvite("11");
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value, token: "other"))),
            "no m.room.third_party_invite");
    }

    [Fact]
    public void A_signature_by_another_key_or_over_other_content_is_refused()
    {
        var room = RoomWithPendingInvite("11");
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value, key: OtherKey))),
            "No signature");

        // Signed for Carol, then the mxid changed to Dave: the signature no longer covers the object.
        var forged = JsonNode.Parse(Signed(Carol.Value))!.AsObject();
        forged["mxid"] = Dave.Value;
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(forged.ToJsonString())), "No signature");

        var unsigned = new JsonObject { ["mxid"] = Dave.Value, ["token"] = Token, ["signatures"] = new JsonObject() };
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(unsigned.ToJsonString())), "No signature");
    }

    [Fact]
    public void A_third_party_invite_without_usable_keys_vouches_for_nobody()
    {
        var room = RoomWithPendingInvite("11", """{ "display_name": "d", "key_validity_url": "https://x", "public_key": "not base64!" }""");
        AuthAssert.Rejected(room.CheckMembership(Alice, Dave, Membership.Invite, ThirdPartyInvite(Signed(Dave.Value))), "No signature");
    }
}
