using System.Net;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;
using static HomeServer.Server.Tests.Accounts.AccountsApi;

namespace HomeServer.Server.Tests.Accounts;

/// <summary>GET /capabilities and the default push rules.</summary>
public sealed class CapabilitiesAndPushRulesTests(SqliteAccountsServer server) : IClassFixture<SqliteAccountsServer>
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task Capabilities_list_room_versions_and_what_users_may_change()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var response = await Client.GetAsync($"{V3}/capabilities", user.AccessToken);

        var capabilities = (await response.OkJsonAsync()).GetProperty("capabilities");
        var versions = capabilities.GetProperty("m.room_versions");
        Assert.Equal("10", versions.GetProperty("default").GetString());
        Assert.Equal(
            """{"1":"stable","2":"stable","3":"stable","4":"stable","5":"stable","6":"stable","7":"stable","8":"stable","9":"stable","10":"stable","11":"stable"}""",
            versions.GetProperty("available").GetRawText());
        Assert.True(capabilities.GetProperty("m.change_password").GetProperty("enabled").GetBoolean());
        Assert.True(capabilities.GetProperty("m.set_displayname").GetProperty("enabled").GetBoolean());
        Assert.True(capabilities.GetProperty("m.set_avatar_url").GetProperty("enabled").GetBoolean());
        Assert.False(capabilities.GetProperty("m.3pid_changes").GetProperty("enabled").GetBoolean());
        var profileFields = capabilities.GetProperty("m.profile_fields");
        Assert.True(profileFields.GetProperty("enabled").GetBoolean());
        Assert.Equal(["displayname", "avatar_url"], profileFields.GetProperty("allowed").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task Capabilities_need_a_token()
    {
        using var response = await Client.GetAsync($"{V3}/capabilities", token: null);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    [Fact]
    public async Task Push_rules_are_the_spec_defaults_in_the_spec_order()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var all = await Client.GetAsync($"{V3}/pushrules/", user.AccessToken);
        using var global = await Client.GetAsync($"{V3}/pushrules/global/", user.AccessToken);

        var rules = (await all.OkJsonAsync()).GetProperty("global");
        Assert.Equal(rules.GetRawText(), (await global.OkJsonAsync()).GetRawText());
        Assert.Equal(
            [".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event", ".m.rule.is_user_mention",
             ".m.rule.contains_display_name", ".m.rule.is_room_mention", ".m.rule.roomnotif", ".m.rule.tombstone", ".m.rule.reaction",
             ".m.rule.room.server_acl", ".m.rule.suppress_edits"],
            RuleIds(rules, "override"));
        Assert.Equal([".m.rule.contains_user_name"], RuleIds(rules, "content"));
        Assert.Empty(RuleIds(rules, "room"));
        Assert.Empty(RuleIds(rules, "sender"));
        Assert.Equal(
            [".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"],
            RuleIds(rules, "underride"));
        foreach (var rule in Enumerable.Concat(rules.GetProperty("override").EnumerateArray(), rules.GetProperty("underride").EnumerateArray()))
        {
            Assert.True(rule.GetProperty("default").GetBoolean());
            Assert.Equal(rule.GetProperty("rule_id").GetString() != ".m.rule.master", rule.GetProperty("enabled").GetBoolean());
        }
    }

    [Fact]
    public async Task Push_rules_name_the_user_where_the_spec_says()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var invite = await Client.GetAsync($"{V3}/pushrules/global/override/.m.rule.invite_for_me", user.AccessToken);
        using var mention = await Client.GetAsync($"{V3}/pushrules/global/override/.m.rule.is_user_mention", user.AccessToken);
        using var name = await Client.GetAsync($"{V3}/pushrules/global/content/.m.rule.contains_user_name", user.AccessToken);

        Assert.Equal(
            $$"""{"rule_id":".m.rule.invite_for_me","default":true,"enabled":true,"conditions":[{"kind":"event_match","key":"type","pattern":"m.room.member"},{"kind":"event_match","key":"content.membership","pattern":"invite"},{"kind":"event_match","key":"state_key","pattern":"{{user.UserId}}"}],"actions":["notify",{"set_tweak":"sound","value":"default"}]}""",
            await invite.Content.ReadAsStringAsync());
        Assert.Equal(
            $$"""{"rule_id":".m.rule.is_user_mention","default":true,"enabled":true,"conditions":[{"kind":"event_property_contains","key":"content.m\\.mentions.user_ids","value":"{{user.UserId}}"}],"actions":["notify",{"set_tweak":"sound","value":"default"},{"set_tweak":"highlight"}]}""",
            await mention.Content.ReadAsStringAsync());
        Assert.Equal(
            $$"""{"rule_id":".m.rule.contains_user_name","default":true,"enabled":true,"pattern":"{{user.Localpart}}","actions":["notify",{"set_tweak":"sound","value":"default"},{"set_tweak":"highlight"}]}""",
            await name.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_rule_its_enabled_flag_and_actions_can_be_read_alone()
    {
        var user = await Client.RegisterAsync(NewUsername());

        using var enabled = await Client.GetAsync($"{V3}/pushrules/global/override/.m.rule.master/enabled", user.AccessToken);
        using var actions = await Client.GetAsync($"{V3}/pushrules/global/underride/.m.rule.call/actions", user.AccessToken);
        using var missing = await Client.GetAsync($"{V3}/pushrules/global/override/.m.rule.nope", user.AccessToken);
        using var badKind = await Client.GetAsync($"{V3}/pushrules/global/everything/.m.rule.master", user.AccessToken);
        using var anonymous = await Client.GetAsync($"{V3}/pushrules/", token: null);

        Assert.Equal("""{"enabled":false}""", await enabled.Content.ReadAsStringAsync());
        Assert.Equal("""{"actions":["notify",{"set_tweak":"sound","value":"ring"}]}""", await actions.Content.ReadAsStringAsync());
        await missing.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        await badKind.AssertErrorAsync(HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await anonymous.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_MISSING_TOKEN");
    }

    private static IEnumerable<string?> RuleIds(JsonElement rules, string kind) =>
        rules.GetProperty(kind).EnumerateArray().Select(rule => rule.GetProperty("rule_id").GetString());
}
