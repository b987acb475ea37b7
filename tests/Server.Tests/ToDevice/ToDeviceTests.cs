using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Server.Tests.Accounts;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.ToDevice;

/// <summary>PUT /sendToDevice and /sync's to_device section, as clients see them (the spec's Send-to-Device module).</summary>
public abstract class ToDeviceTests : SyncTestBase
{
    private const string V3 = "/_matrix/client/v3";

    private IHomeServerStore Store => Server.App.Services.GetRequiredService<IHomeServerStore>();

    /// <summary>Alice on her registered device and on LAPTOP; Bob sends.</summary>
    private async Task<(SyncUser Phone, SyncUser Laptop, SyncUser Bob)> UsersAsync()
    {
        var phone = await RegisterAsync("alice");
        var laptop = await LogInAsync("alice", "LAPTOP");
        var bob = await RegisterAsync("bob");
        return (phone, laptop, bob);
    }

    private async Task<SyncUser> LogInAsync(string localpart, string deviceId)
    {
        var login = await Server.Client.LogInAsync(localpart, deviceId: deviceId);
        return new SyncUser(Server.Client, login.UserId, login.DeviceId, login.AccessToken);
    }

    /// <summary>
    /// With Expect: 100-continue, as clients sending large bodies do: a body declared over the limit is refused before
    /// it is sent, so the client reads the refusal instead of meeting a connection closed in the middle of its upload.
    /// </summary>
    private Task<HttpResponseMessage> PutRawAsync(SyncUser sender, string type, string txn, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"{V3}/sendToDevice/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(txn)}")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", sender.AccessToken);
        request.Headers.ExpectContinue = true;
        return Server.Client.SendAsync(request);
    }

    private static async Task SendAsync(SyncUser sender, string txn, JsonObject messages, string type = "m.test")
    {
        using var response = await sender.SendAsync(HttpMethod.Put, $"{V3}/sendToDevice/{Uri.EscapeDataString(type)}/{Uri.EscapeDataString(txn)}",
            new JsonObject { ["messages"] = messages });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"sendToDevice: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
    }

    private static JsonObject To(string userId, string deviceId, JsonObject content) => new() { [userId] = new JsonObject { [deviceId] = content } };

    private static List<JsonElement> ToDeviceEvents(JsonElement sync) =>
        sync.GetProperty("to_device").GetProperty("events").EnumerateArray().ToList();

    private static List<long> Numbers(JsonElement sync) =>
        ToDeviceEvents(sync).Select(e => e.GetProperty("content").GetProperty("n").GetInt64()).ToList();

    [Fact]
    public async Task A_message_reaches_the_addressed_device_only_as_type_sender_and_content_in_send_order()
    {
        var (phone, laptop, bob) = await UsersAsync();
        var phoneToken = NextBatch(await phone.SyncAsync());
        var laptopToken = NextBatch(await laptop.SyncAsync());

        for (var n = 1; n <= 3; n++)
            await SendAsync(bob, $"txn{n}", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = n, ["nested"] = new JsonObject { ["ü"] = "🔑" } }), $"m.type{n}");

        var sync = await phone.SyncSinceAsync(phoneToken);
        var events = ToDeviceEvents(sync);
        Assert.Equal([1L, 2L, 3L], Numbers(sync));
        Assert.Equal(["m.type1", "m.type2", "m.type3"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.All(events, e => Assert.Equal(bob.UserId, e.GetProperty("sender").GetString()));
        Assert.All(events, e => Assert.Equal(["type", "sender", "content"], e.EnumerateObject().Select(p => p.Name)));
        Assert.Equal("🔑", events[0].GetProperty("content").GetProperty("nested").GetProperty("ü").GetString());
        Assert.Empty(ToDeviceEvents(await laptop.SyncSinceAsync(laptopToken)));
        Assert.Empty(ToDeviceEvents(await bob.SyncAsync()));
    }

    [Fact]
    public async Task A_star_reaches_every_device_of_the_user()
    {
        var (phone, laptop, bob) = await UsersAsync();
        var phoneToken = NextBatch(await phone.SyncAsync());

        await SendAsync(bob, "t1", To(phone.UserId, "*", new JsonObject { ["n"] = 7 }));

        Assert.Equal([7L], Numbers(await phone.SyncSinceAsync(phoneToken)));
        Assert.Equal([7L], Numbers(await laptop.SyncAsync()));
    }

    [Fact]
    public async Task At_most_100_per_response_the_rest_next_time_redelivered_on_a_retried_since_and_deleted_once_acknowledged()
    {
        var (phone, _, bob) = await UsersAsync();
        var start = NextBatch(await phone.SyncAsync());
        for (var n = 0; n < 130; n++) await SendAsync(bob, $"t{n}", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = n }));

        var first = await phone.SyncSinceAsync(start);
        Assert.Equal(Enumerable.Range(0, 100).Select(n => (long)n), Numbers(first));
        // The response was lost: the same since brings the same messages.
        Assert.Equal(Numbers(first), Numbers(await phone.SyncSinceAsync(start)));

        var second = await phone.SyncSinceAsync(NextBatch(first));
        Assert.Equal(Enumerable.Range(100, 30).Select(n => (long)n), Numbers(second));
        // Syncing with the first response's token acknowledged (and deleted) its 100: the old token now finds the 30 only.
        Assert.Equal(Enumerable.Range(100, 30).Select(n => (long)n), Numbers(await phone.SyncSinceAsync(start)));

        var third = await phone.SyncSinceAsync(NextBatch(second), "timeout=0");
        Assert.Empty(ToDeviceEvents(third));
        Assert.Empty(await Store.ToDevice.GetMessagesAsync(phone.UserId, phone.DeviceId, 0, long.MaxValue, 1000, CancellationToken.None));
    }

    [Fact]
    public async Task A_retried_transaction_id_delivers_once_but_the_id_is_per_sending_device()
    {
        var (phone, _, bob) = await UsersAsync();
        var bobTablet = await LogInAsync("bob", "TABLET");
        var start = NextBatch(await phone.SyncAsync());

        await SendAsync(bob, "same", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 1 }));
        await SendAsync(bob, "same", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 2 }));
        await SendAsync(bobTablet, "same", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 3 }));

        Assert.Equal([1L, 3L], Numbers(await phone.SyncSinceAsync(start)));
    }

    [Fact]
    public async Task A_parked_long_poll_is_woken_by_a_message()
    {
        var (phone, _, bob) = await UsersAsync();
        var token = NextBatch(await phone.SyncAsync());
        // A first long-poll settles the token past anything else pending.
        token = NextBatch(await phone.SyncSinceAsync(token, "timeout=0"));

        var clock = Stopwatch.StartNew();
        var parked = phone.SyncSinceAsync(token, "timeout=20000");
        await Task.Delay(500);
        Assert.False(parked.IsCompleted);
        await SendAsync(bob, "wake", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 42 }));

        var woken = await parked.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal([42L], Numbers(woken));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"woken after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_deleted_device_loses_its_queue_and_a_new_device_with_its_id_starts_empty()
    {
        var (phone, laptop, bob) = await UsersAsync();
        await SendAsync(bob, "t1", To(phone.UserId, "*", new JsonObject { ["n"] = 1 }));

        using var deleted = await Server.Client.DeleteAsync($"{V3}/devices/LAPTOP",
            AccountsApi.Json(new { auth = AccountsApi.PasswordAuth(null, phone.UserId) }), phone.AccessToken);
        await deleted.OkJsonAsync();

        Assert.Empty(await Store.ToDevice.GetMessagesAsync(phone.UserId, "LAPTOP", 0, long.MaxValue, 10, CancellationToken.None));
        var again = await LogInAsync("alice", "LAPTOP");
        Assert.Empty(ToDeviceEvents(await again.SyncAsync()));
        Assert.Equal([1L], Numbers(await phone.SyncAsync()));
    }

    public static TheoryData<string, HttpStatusCode, string> BadBodies() => new()
    {
        { """{"messages":{"@alice:localhost":{"PHONE":"text"}}}""", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { """{"messages":{"@alice:localhost":{"PHONE":[1]}}}""", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { """{"messages":{"@alice:localhost":["PHONE"]}}""", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { """{"messages":[]}""", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { """{"messages":{"alice":{"PHONE":{}}}}""", HttpStatusCode.BadRequest, "M_INVALID_PARAM" },
        { """{}""", HttpStatusCode.BadRequest, "M_MISSING_PARAM" },
        { """[]""", HttpStatusCode.BadRequest, "M_BAD_JSON" },
        { """{"messages":""", HttpStatusCode.BadRequest, "M_NOT_JSON" },
        { """{"messages":{"@alice:localhost":{"*":{"n":1},"PHONE":{"big":"BIG"}}}}""", HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE" },
        { """{"messages":{"@alice:localhost":{"PHONE":{"n":1}},"@bob:localhost":{"*":{"huge":"HUGE"}}}}""", HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_input_is_refused_and_stores_nothing(string body, HttpStatusCode status, string errcode)
    {
        var (phone, laptop, bob) = await UsersAsync();
        Assert.Equal("@alice:localhost", phone.UserId);
        // A content over the 64 KiB of one message, and a body over the gateway's 1 MiB.
        body = body.Replace("BIG", new string('x', 65_536)).Replace("HUGE", new string('x', 1_100_000));

        using var response = await PutRawAsync(bob, "m.test", "t1", body);
        await response.AssertErrorAsync(status, errcode);

        Assert.Equal(0, await Store.ToDevice.GetMaxStreamPositionAsync(CancellationToken.None));
        Assert.Empty(ToDeviceEvents(await phone.SyncAsync()));
        Assert.Empty(ToDeviceEvents(await laptop.SyncAsync()));
        // The transaction id was not used up.
        await SendAsync(bob, "t1", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 1 }));
        Assert.Equal([1L], Numbers(await phone.SyncAsync()));
    }

    [Fact]
    public async Task A_content_of_exactly_64_KiB_is_accepted()
    {
        var (phone, _, bob) = await UsersAsync();
        var padding = new string('x', 65_536 - """{"n":1,"p":""}""".Length);

        await SendAsync(bob, "t1", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 1, ["p"] = padding }));

        Assert.Equal([1L], Numbers(await phone.SyncAsync()));
    }

    [Fact]
    public async Task Messages_for_other_servers_and_unknown_users_or_devices_are_dropped_without_error()
    {
        var (phone, laptop, bob) = await UsersAsync();
        var messages = new JsonObject
        {
            ["@someone:elsewhere.example"] = new JsonObject { ["DEV"] = new JsonObject { ["n"] = 1 } },
            ["@nobody:localhost"] = new JsonObject { ["*"] = new JsonObject { ["n"] = 2 } },
            [phone.UserId] = new JsonObject { ["NOSUCHDEVICE"] = new JsonObject { ["n"] = 3 } },
        };

        await SendAsync(bob, "t1", messages);

        Assert.Empty(ToDeviceEvents(await phone.SyncAsync()));
        Assert.Empty(ToDeviceEvents(await laptop.SyncAsync()));
    }

    [Fact]
    public async Task Queued_messages_survive_a_restart_and_tokens_without_a_to_device_part_read_them()
    {
        var (phone, laptop, bob) = await UsersAsync();
        var token = NextBatch(await phone.SyncAsync());
        var laptopToken = NextBatch(await laptop.SyncAsync());
        await SendAsync(bob, "t1", To(phone.UserId, "*", new JsonObject { ["n"] = 1 }));

        await RestartAsync();

        var delivered = await phone.On(Server).SyncSinceAsync(token);
        Assert.Equal([1L], Numbers(delivered));
        Assert.Contains("_t", NextBatch(delivered));
        // The laptop's token was issued before any to-device message existed: it has no t part and reads from the start.
        Assert.DoesNotContain("_t", laptopToken);
        Assert.Equal([1L], Numbers(await laptop.On(Server).SyncSinceAsync(laptopToken)));
    }

    [Fact]
    public async Task The_legacy_events_stream_neither_delivers_nor_acknowledges_to_device_messages()
    {
        var (phone, _, bob) = await UsersAsync();
        var token = NextBatch(await phone.SyncAsync());
        await SendAsync(bob, "t1", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 1 }));

        // Two rounds of /events: the second one's from would acknowledge what the first one delivered.
        var first = await (await phone.GetAsync($"{V3}/events?from={Uri.EscapeDataString(token)}&timeout=0")).ReadJsonAsync();
        var end = first.GetProperty("end").GetString()!;
        var second = await (await phone.GetAsync($"{V3}/events?from={Uri.EscapeDataString(end)}&timeout=0")).ReadJsonAsync();
        Assert.Empty(second.GetProperty("chunk").EnumerateArray());

        Assert.Equal([1L], Numbers(await phone.SyncSinceAsync(second.GetProperty("end").GetString()!)));
    }

    [Fact]
    public async Task Another_device_of_the_user_syncing_does_not_acknowledge_this_devices_messages()
    {
        var (phone, laptop, bob) = await UsersAsync();
        var phoneToken = NextBatch(await phone.SyncAsync());
        var laptopToken = NextBatch(await laptop.SyncAsync());
        await SendAsync(bob, "t1", To(phone.UserId, phone.DeviceId, new JsonObject { ["n"] = 1 }));
        await SendAsync(bob, "t2", To(phone.UserId, "LAPTOP", new JsonObject { ["n"] = 2 }));

        // The laptop syncs twice, its token moving past both messages' positions.
        var laptopSync = await laptop.SyncSinceAsync(laptopToken);
        Assert.Equal([2L], Numbers(laptopSync));
        Assert.Empty(ToDeviceEvents(await laptop.SyncSinceAsync(NextBatch(laptopSync), "timeout=0")));

        Assert.Equal([1L], Numbers(await phone.SyncSinceAsync(phoneToken)));
    }
}

public sealed class SqliteToDeviceTests : ToDeviceTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresToDeviceTests : ToDeviceTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
