using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// To-device messages across servers: a user of one server sends to a device of a user of another, which finds the
/// message in its /sync exactly once, also when the receiving server was down when it was sent and the sending server
/// restarted meanwhile; inbound <c>m.direct_to_device</c> EDUs are deduplicated by message id, and malformed ones are
/// ignored without failing the transaction.
/// </summary>
public abstract class FederatedToDeviceTests<TPair>(TPair pair) where TPair : FederationPair
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_message_from_a_user_of_A_reaches_the_device_of_a_user_of_B_exactly_once()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        var initial = (await bob.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;
        var body = new JsonObject { ["messages"] = new JsonObject { [bob.UserId] = new JsonObject { [bob.DeviceId] = new JsonObject { ["body"] = "hello bob" } } } };

        await SendAsync(alice, "m.test", "txn-1", body);
        // The client retries (it did not see the answer): the same transaction id, nothing more for bob.
        await SendAsync(alice, "m.test", "txn-1", body);
        await SendAsync(alice, "m.test", "txn-2", new JsonObject { ["messages"] = new JsonObject { [bob.UserId] = new JsonObject { ["*"] = new JsonObject { ["body"] = "to all" } } } });

        var received = await ToDeviceEventsAsync(bob, initial, count: 2);
        Assert.Equal(["hello bob", "to all"], received.Events.Select(e => e.GetProperty("content").GetProperty("body").GetString()));
        Assert.All(received.Events, e => Assert.Equal(alice.UserId, e.GetProperty("sender").GetString()));
        Assert.All(received.Events, e => Assert.Equal("m.test", e.GetProperty("type").GetString()));
        await AssertNothingMoreAsync(bob, received);
    }

    [Fact]
    public async Task A_message_sent_while_the_receiver_is_down_arrives_after_both_servers_restart()
    {
        var down = true;
        var refused = 0;
        var (receiver, _) = await pair.StartAsync(allowPrivateAddresses: true, app => app.Use(async (context, next) =>
        {
            if (down && context.Request.Path.StartsWithSegments("/_matrix/federation/v1/send"))
            {
                Interlocked.Increment(ref refused);
                context.Abort();
                return;
            }
            await next(context);
        }));
        var (sender, _) = await pair.StartAsync(allowPrivateAddresses: true);
        var carol = await UserAsync(receiver, "carol");
        var dave = await UserAsync(sender, "dave");
        var initial = (await carol.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;

        await SendAsync(dave, "m.secret", "txn-1", new JsonObject
        {
            ["messages"] = new JsonObject { [carol.UserId] = new JsonObject { [carol.DeviceId] = new JsonObject { ["body"] = "while you were away" } } },
        });
        await WaitUntilAsync(() => Volatile.Read(ref refused) > 0, "a refused attempt");
        var restarted = await sender.RestartAsync();
        var receiverRestarted = await receiver.RestartAsync();
        try
        {
            down = false;
            var received = await ToDeviceEventsAsync(carol, initial, count: 1);
            Assert.Equal("while you were away", Assert.Single(received.Events).GetProperty("content").GetProperty("body").GetString());
            Assert.Equal(dave.UserId, received.Events[0].GetProperty("sender").GetString());
            await AssertNothingMoreAsync(carol, received);
        }
        finally
        {
            await restarted.DisposeAsync();
            await receiverRestarted.DisposeAsync();
        }
    }

    [Fact]
    public async Task Inbound_messages_are_kept_once_per_message_id_and_malformed_ones_are_ignored()
    {
        var bob = await UserAsync(pair.B, "bob");
        var initial = (await bob.SyncAsync("timeout=0")).GetProperty("next_batch").GetString()!;
        var sender = pair.RemoteUser("erin");
        JsonObject Edu(string messageId, string text, string? from = null) => new()
        {
            ["edu_type"] = "m.direct_to_device",
            ["content"] = new JsonObject
            {
                ["sender"] = from ?? sender,
                ["type"] = "m.room_key_request",
                ["message_id"] = messageId,
                ["messages"] = new JsonObject { [bob.UserId] = new JsonObject { [bob.DeviceId] = new JsonObject { ["body"] = text } } },
            },
        };
        var malformed = new JsonArray(
            new JsonObject { ["edu_type"] = "m.direct_to_device", ["content"] = new JsonObject { ["sender"] = sender, ["message_id"] = "x" } },
            new JsonObject { ["edu_type"] = "m.direct_to_device", ["content"] = "not an object" },
            Edu("m-bad", "not an object either").Also(e => e["content"]!["messages"]![bob.UserId]![bob.DeviceId] = 5),
            // Another server's user: A cannot speak for it.
            Edu("m-foreign", "forged", from: $"@mallory:{pair.NameOfB}"));

        await SendTransactionAsync("t1", new JsonArray([.. malformed.Select(e => e!.DeepClone()), Edu("m-1", "first")]));
        await SendTransactionAsync("t2", new JsonArray(Edu("m-1", "first"), Edu("m-2", "second")));

        var received = await ToDeviceEventsAsync(bob, initial, count: 2);
        Assert.Equal(["first", "second"], received.Events.Select(e => e.GetProperty("content").GetProperty("body").GetString()));
        Assert.All(received.Events, e => Assert.Equal(sender, e.GetProperty("sender").GetString()));
        Assert.All(received.Events, e => Assert.Equal("m.room_key_request", e.GetProperty("type").GetString()));
        await AssertNothingMoreAsync(bob, received);
    }

    private async Task SendTransactionAsync(string transactionId, JsonArray edus)
    {
        var response = await pair.FederationOfA.SendAsync(pair.NameOfB, HttpMethod.Put, $"/_matrix/federation/v1/send/{transactionId}-{Guid.NewGuid():N}",
            new JsonObject { ["origin"] = pair.NameOfA, ["origin_server_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ["pdus"] = new JsonArray(), ["edus"] = edus },
            CancellationToken.None);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(response.Body)}");
    }

    /// <summary>Syncs from <paramref name="since"/> until <paramref name="count"/> to-device events came, acknowledging each response.</summary>
    private static async Task<(List<JsonElement> Events, string Since)> ToDeviceEventsAsync(SyncUser user, string since, int count)
    {
        var events = new List<JsonElement>();
        var deadline = DateTime.UtcNow + Patience;
        while (events.Count < count)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{events.Count} of {count} to-device messages arrived.");
            var response = await user.SyncSinceAsync(since, "timeout=1000");
            since = response.GetProperty("next_batch").GetString()!;
            if (response.TryGetProperty("to_device", out var toDevice)) events.AddRange(toDevice.GetProperty("events").EnumerateArray().Select(e => e.Clone()));
        }
        return (events, since);
    }

    /// <summary>A little later (a repeated EDU would have arrived by then), the device gets nothing more.</summary>
    private static async Task AssertNothingMoreAsync(SyncUser user, (List<JsonElement> Events, string Since) received)
    {
        await Task.Delay(1500);
        var response = await user.SyncSinceAsync(received.Since, "timeout=0");
        var more = response.TryGetProperty("to_device", out var toDevice) ? toDevice.GetProperty("events").GetArrayLength() : 0;
        Assert.True(more == 0, $"{more} more to-device messages after {received.Events.Count}.");
    }

    private static async Task SendAsync(SyncUser user, string type, string transactionId, JsonObject body)
    {
        var response = await user.SendAsync(HttpMethod.Put, $"/_matrix/client/v3/sendToDevice/{type}/{transactionId}", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<SyncUser> UserAsync(RunningServer server, string name)
    {
        var user = await TestUsers.CreateAsync(server, name);
        return new SyncUser(pair.ClientFor(server), user.UserId, user.DeviceId, user.AccessToken);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(50);
        }
    }
}

internal static class JsonObjectTestExtensions
{
    public static JsonObject Also(this JsonObject value, Action<JsonObject> change)
    {
        change(value);
        return value;
    }
}

public sealed class SqliteFederatedToDeviceTests(SqliteFederationPair pair)
    : FederatedToDeviceTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederatedToDeviceTests(PostgresFederationPair pair)
    : FederatedToDeviceTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
