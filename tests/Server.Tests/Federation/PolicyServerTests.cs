using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static HomeServer.Server.Tests.Federation.FederatedMembers;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// A room of A that uses a Policy Server P (spec 1.18, server-server "Policy Servers"): P is a homeserver with a member
/// in the room that also answers <c>POST /_matrix/policy/v1/sign</c>, signing with a key of its own named by the room's
/// <c>m.room.policy</c> event and refusing messages it takes for spam. A's events carry P's signature; a refused message
/// is answered with P's error and appended nowhere; the policy event itself is never sent to P.
/// </summary>
public abstract class PolicyServerTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const string Spam = "The message appears to contain possible spam";

    [Fact]
    public async Task Events_of_a_room_using_a_policy_server_carry_its_signature_and_a_refused_message_is_answered_with_its_error()
    {
        using var policy = await PolicyServer.StartAsync(pair);
        var (alice, _) = await UserAsync(pair, pair.A, "alice");
        var (carol, carolSync) = await UserAsync(pair, policy.Server, "carol");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = "11" });
        await carol.OkAsync(HttpMethod.Post, $"/join/{RoomsClient.Escape(roomId)}?server_name={Uri.EscapeDataString(pair.NameOfA)}", new { });
        await WaitUntilAsync(async () => (await JoinedMembersAsync(alice, roomId)).Contains(carol.UserId), "carol in A's member list");
        var carolSeen = await MessageLog.FromNowAsync(carolSync, roomId);

        var before = await alice.SendTextAsync(roomId, "before the policy");
        Assert.Null(SignatureOf(await StoredAsync(before), policy.Name));
        var policyEvent = await alice.SetStateAsync(roomId, "m.room.policy", new { via = policy.Name, public_keys = new { ed25519 = policy.PublicKey } });

        var hello = await alice.SendTextAsync(roomId, "hello");
        var topic = await alice.SetStateAsync(roomId, "m.room.topic", new { topic = "checked" });
        var refused = await alice.RequestAsync(HttpMethod.Put, $"/rooms/{RoomsClient.Escape(roomId)}/send/m.room.message/spam-1", new { msgtype = "m.text", body = "cheap spam" });
        var after = await alice.SendTextAsync(roomId, "after the refusal");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var error = await refused.ReadJsonAsync();
        Assert.Equal("M_FORBIDDEN", error.GetProperty("errcode").GetString());
        Assert.Equal(Spam, error.GetProperty("error").GetString());
        foreach (var eventId in new[] { hello, topic, after })
        {
            var signature = SignatureOf(await StoredAsync(eventId), policy.Name);
            Assert.True(signature is not null, $"{eventId} has no signature of the Policy Server");
        }
        Assert.Null(SignatureOf(await StoredAsync(policyEvent), policy.Name));
        Assert.DoesNotContain(policy.Asked, type => type == "m.room.policy");
        Assert.Contains(policy.Refused, body => body == "cheap spam");

        // P's server took A's signed events like any other; the refused one exists nowhere.
        await carolSeen.WaitForAsync(3);
        Assert.Equal(["before the policy", "hello", "after the refusal"], carolSeen.Bodies);
        var page = await alice.MessagesAsync(roomId, "dir=b&limit=20");
        Assert.DoesNotContain(page.GetProperty("chunk").EnumerateArray(), e => e.GetProperty("content").TryGetProperty("body", out var b) && b.GetString() == "cheap spam");
    }

    [Fact]
    public async Task A_room_whose_policy_server_has_no_member_there_does_not_use_it()
    {
        using var policy = await PolicyServer.StartAsync(pair);
        var (alice, _) = await UserAsync(pair, pair.A, "alice");
        var roomId = await alice.CreateRoomAsync(new { preset = "public_chat", room_version = "11" });
        await alice.SetStateAsync(roomId, "m.room.policy", new { via = policy.Name, public_keys = new { ed25519 = policy.PublicKey } });

        var message = await alice.SendTextAsync(roomId, "cheap spam, but nobody checks");

        Assert.Null(SignatureOf(await StoredAsync(message), policy.Name));
        Assert.Empty(policy.Asked);
    }

    private async Task<JsonObject> StoredAsync(string eventId)
    {
        var stored = await pair.A.App.Services.GetRequiredService<IHomeServerStore>().Events.GetEventAsync(eventId, CancellationToken.None);
        Assert.NotNull(stored);
        return JsonNode.Parse(stored.Json)!.AsObject();
    }

    private static string? SignatureOf(JsonObject pdu, string policyServer) =>
        pdu["signatures"]?[policyServer]?["ed25519:policy_server"]?.GetValue<string>();

    /// <summary>A homeserver of the test network that is also a Policy Server: it signs every event but spam.</summary>
    private sealed class PolicyServer : IDisposable
    {
        private readonly ServerSigningKey _key;

        private PolicyServer(RunningServer server, string name, ServerSigningKey key) => (Server, Name, _key) = (server, name, key);

        public RunningServer Server { get; }

        public string Name { get; }

        public string PublicKey => _key.PublicKeyBase64;

        /// <summary>The types of the events it was asked to sign.</summary>
        public ConcurrentQueue<string> Asked { get; } = new();

        /// <summary>The bodies of the messages it refused.</summary>
        public ConcurrentQueue<string> Refused { get; } = new();

        public static async Task<PolicyServer> StartAsync(FederationPair pair)
        {
            PolicyServer? policy = null;
            var (server, name) = await pair.StartAsync(allowPrivateAddresses: true, app =>
                app.MapPost("/_matrix/policy/v1/sign", async (HttpContext context) =>
                {
                    var pdu = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
                    return policy!.Sign(pdu);
                }));
            policy = new PolicyServer(server, name, ServerSigningKey.FromSeed(name, "ed25519:policy_server", RandomNumberGenerator.GetBytes(ServerSigningKey.SeedBytes)));
            return policy;
        }

        private IResult Sign(JsonObject pdu)
        {
            Asked.Enqueue(pdu["type"]!.GetValue<string>());
            if (pdu["content"]?["body"]?.GetValue<string>() is { } body && body.Contains("spam", StringComparison.Ordinal))
            {
                Refused.Enqueue(body);
                return Results.Json(new { errcode = "M_FORBIDDEN", error = Spam }, statusCode: StatusCodes.Status400BadRequest);
            }
            Assert.True(RoomVersion.TryGet("11", out var version));
            var signed = (JsonObject)pdu.DeepClone();
            signed["signatures"] = new JsonObject();
            EventSigning.Sign(version, signed, _key);
            return Results.Json(new JsonObject { [Name] = new JsonObject { [_key.KeyId] = signed["signatures"]![Name]![_key.KeyId]!.GetValue<string>() } });
        }

        public void Dispose() => _key.Dispose();
    }
}

public sealed class SqlitePolicyServerTests(SqliteFederationPair pair)
    : PolicyServerTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresPolicyServerTests(PostgresFederationPair pair)
    : PolicyServerTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
