using System.Text;
using HomeServer.Grains.Federation.Transactions;

namespace HomeServer.Grains.Tests.Federation;

/// <summary>The <c>m.presence</c> and <c>m.signing_key_update</c> EDUs taken from a transaction body.</summary>
public class InboundUserEduTests
{
    private static byte[] Body(string edus) => Encoding.UTF8.GetBytes($$"""{"origin":"remote.example","pdus":[],"edus":[{{edus}}]}""");

    [Fact]
    public void Presence_entries_are_read_with_their_time_and_the_latest_per_user_wins()
    {
        var body = Body("""
            {"edu_type":"m.presence","content":{"push":[
                {"user_id":"@a:remote.example","presence":"online","last_active_ago":500,"currently_active":true},
                {"user_id":"@b:remote.example","presence":"busy","last_active_ago":1},
                {"user_id":"@c:remote.example","presence":"offline"},
                {"user_id":"@d:remote.example","presence":"unavailable","last_active_ago":-5},
                "nonsense"]}},
            {"edu_type":"m.presence","content":{"push":[
                {"user_id":"@a:remote.example","presence":"unavailable","status_msg":"away","last_active_ago":100}]}},
            {"edu_type":"m.typing","content":{"push":[{"user_id":"@e:remote.example","presence":"online","last_active_ago":0}]}}
            """);

        var entries = InboundPresenceEdus.Parse(body, nowMs: 10_000);

        var entry = Assert.Single(entries);
        Assert.Equal(new PresenceEntry("@a:remote.example", "unavailable", "away", 9_900), entry);
    }

    [Fact]
    public void Signing_key_updates_are_taken_only_for_users_of_the_origin_whose_keys_are_theirs()
    {
        var body = Body("""
            {"edu_type":"m.signing_key_update","content":{"user_id":"@a:remote.example","master_key":{"user_id":"@a:remote.example"}}},
            {"edu_type":"m.signing_key_update","content":{"user_id":"@a:remote.example","self_signing_key":{"user_id":"@a:remote.example"}}},
            {"edu_type":"m.signing_key_update","content":{"user_id":"@b:remote.example","master_key":{"user_id":"@other:remote.example"}}},
            {"edu_type":"m.signing_key_update","content":{"user_id":"@c:elsewhere.example"}},
            {"edu_type":"m.signing_key_update","content":{"user_id":"@d:remote.example","self_signing_key":"not an object"}},
            {"edu_type":"m.signing_key_update","content":{"user_id":"@e:remote.example"}}
            """);

        Assert.Equal(["@a:remote.example", "@e:remote.example"], InboundSigningKeyEdus.Parse("remote.example", body));
        Assert.Empty(InboundSigningKeyEdus.Parse("remote.example", "not json"u8.ToArray()));
    }
}
